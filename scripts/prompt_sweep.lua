-- A prompt sweep: three times of day × two seeds, side by side. A failed take does not stop
-- the sweep: it comes back as an error table, and the others carry on.
--   reel run scripts/prompt_sweep.lua subject=lighthouse
--   then open out/gallery.html: the takes as a grid, times down, seeds across
local subject = args.subject or "a lighthouse"
local times = { "dawn", "noon", "dusk" }
local seeds = { 7, 42 }

defaults{ duration = 4, aspect_ratio = "16:9", negative_prompt = "text, watermark" }

local jobs = {}
for _, time in ipairs(times) do
  for _, seed in ipairs(seeds) do jobs[#jobs + 1] = { time = time, seed = seed } end
end

local takes = map(jobs, function(job)
  return text_to_video{ prompt = ("%s at %s, wide shot"):format(subject, job.time), seed = job.seed }
end, { concurrency = tonumber(args.concurrency) or 4, errors = "collect" })

for i, take in ipairs(takes) do
  local job = jobs[i]
  if take.failed then
    log(job.time, "seed " .. job.seed, "failed:", take.code, take.message)
  else
    log(job.time, "seed " .. job.seed, take.label, take.path)
  end
end
