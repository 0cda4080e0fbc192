-- Keep a subject consistent with 2-3 reference images (standard models only).
--   reel run scripts/reference_images.lua
local clip = reference_to_video{
  model = "veo3.1-video-720p",
  prompt = "the paper boat sails down the gutter between the cobblestones",
  images = { "assets/boat.png", "assets/gutter.png" },
  aspect_ratio = "9:16",
  duration = 8,
  extra_body = { seed = 11, generate_audio = true },
}
log("saved", clip:save())
