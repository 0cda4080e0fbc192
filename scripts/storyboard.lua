-- A four-shot storyboard: each shot starts from the last frame of the one before, then the
-- shots are stitched into one film, with a seam sheet to review every cut.
--   reel check scripts/storyboard.lua        (plans the four shots and the media steps)
--   reel run scripts/storyboard.lua
--   reel run scripts/storyboard.lua fade=0.5 (cross-fades instead of cuts)
local shots = {
  "a paper boat sets off down a rain gutter, morning light",
  "the boat rides a rush of water toward a storm drain",
  "the boat drops into the dark drain, spray in the torchlight",
  "the boat floats out into a wide, calm canal at dusk",
}

local clips = {}
for i, prompt in ipairs(shots) do
  if i == 1 then
    clips[i] = text_to_video{ prompt = prompt, duration = 4, seed = 7 }
  else
    -- The next shot opens on the previous shot's last frame.
    clips[i] = image_to_video{ prompt = prompt, image = last_frame(clips[i - 1]), duration = 4, seed = 7 }
  end
  log("shot " .. i, clips[i].label)
end

local fade = tonumber(args.fade)
local film = concat(clips, fade and { transition = "fade", fade = fade } or nil)
local sheet = seams(film)
log("film", film.path, film.duration, "s")
log("seams", sheet.path)
