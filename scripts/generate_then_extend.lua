-- Generate a clip, extend it twice, and save every stage.
--   reel run scripts/generate_then_extend.lua
--   reel run scripts/generate_then_extend.lua subject="a red paper boat"
local subject = args.subject or "a paper boat in a rain gutter"

local clip = text_to_video{
  prompt = subject .. ", close-up, soft morning light",
  aspect_ratio = "16:9",
  duration = 8,
  seed = 7,
  generate_audio = true,
}
log("first clip", clip.id)
clip:save()

-- extend() keeps the source video's model; nothing else carries over.
local longer = extend(clip, { prompt = "the boat drifts toward a storm drain" })
longer:save()

local longest = extend(longer, { prompt = "the boat tips over the edge into darkness" })
log("saved", longest:save())
