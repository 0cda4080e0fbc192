-- One generation per CSV row: the row's columns arrive in args.
--   reel run --each scripts/rows.csv scripts/csv_sweep.lua
--   reel run --each scripts/rows.csv scripts/csv_sweep.lua --concurrency 3
local row = {
  animal = args.animal or "a red fox",
  place = args.place or "a snowy birch forest",
  time = args.time or "dawn",
}
local clip = text_to_video{
  prompt = fmt("{animal} in {place} at {time}, wildlife documentary, slow push-in", row),
  duration = 6,
  seed = tonumber(args._row) or 1,
}
log(fmt("row {n}: {id}", { n = args._row or "-", id = clip.id }))
