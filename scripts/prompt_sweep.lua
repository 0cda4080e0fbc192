-- One prompt, many variations, generated side by side.
--   reel run scripts/prompt_sweep.lua subject=lighthouse concurrency=3
local subject = args.subject or "a lighthouse"
local times = { "dawn", "noon", "dusk", "night in a storm" }

defaults{ duration = 4, aspect_ratio = "16:9", negative_prompt = "text, watermark" }

local takes = map(times, function(time)
  local take = text_to_video{ prompt = ("%s at %s, wide shot"):format(subject, time) }
  take:save()
  return take
end, { concurrency = tonumber(args.concurrency) or 4 })

for i, take in ipairs(takes) do
  log(times[i], take.id, take.url)
end
