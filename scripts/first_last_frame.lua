-- Animate between two still frames (local files are sent inline as data: URIs).
--   reel run scripts/first_last_frame.lua
local clip = frames_to_video{
  prompt = "the sky turns from dawn to dusk over a quiet harbour",
  image = "assets/dawn.png",       -- paths are relative to this script
  last_image = "assets/dusk.png",
  duration = 8,
}
log("saved", clip:save())
