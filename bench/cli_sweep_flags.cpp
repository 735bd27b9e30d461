#include "cli_sweep_flags.h"

#include <limits>
#include <stdexcept>

#include "results/results_file.h"
#include "sweep/lists.h"

namespace dpb::cli {

void add_rank_flags(CLI::App& app, RankFlags& flags) {
  app.add_option("-g,--gpus,--ranks", flags.gpus,
                 "Rank counts to sweep, comma-separated (e.g. 1,2,4,8); ranks use devices 0..N-1 unless "
                 "--devices is given");
  app.add_option("--devices", flags.devices,
                 "Explicit device list, repeats allowed (e.g. 0,0,1,1); a point with N ranks uses the first N");
}

RankPlan parse_rank_flags(const RankFlags& flags, int device_count, int default_ranks) {
  RankPlan plan;
  if (!flags.devices.empty()) plan.devices = parse_index_list(flags.devices, "--devices");
  if (!flags.gpus.empty()) {
    plan.rank_counts = parse_positive_int_list(flags.gpus, "--gpus");
  } else if (plan.devices) {
    plan.rank_counts = {static_cast<int>(plan.devices->size())};
  } else {
    plan.rank_counts = {default_ranks};
  }
  plan.validate(device_count);
  return plan;
}

void add_stopping_flags(CLI::App& app, StoppingFlags& flags, const StoppingOptions& d) {
  app.add_option("--warmup", flags.warmup, "Untimed warm-up iterations per point (default " +
                                               std::to_string(d.warmup_iters) + ")");
  app.add_option("--min-iters", flags.min_iters,
                 "Fewest timed iterations per point (default " + std::to_string(d.min_iters) + ")");
  app.add_option("--max-iters", flags.max_iters,
                 "Most timed iterations per point (default " + std::to_string(d.max_iters) + ")");
  app.add_option("--max-noise", flags.max_noise,
                 "Stop once the relative standard error of the mean is below this percentage (default " +
                     CLI::detail::to_string(d.max_noise * 100) + ")");
  app.add_option("--max-time", flags.max_time,
                 "Seconds of timed iterations per point before stopping anyway (default " +
                     CLI::detail::to_string(d.max_time_s) + ")");
  app.add_option("--iters", flags.iters, "Exactly this many timed iterations per point (no adaptive stopping)");
}

StoppingOptions parse_stopping_flags(const StoppingFlags& f, const StoppingOptions& d) {
  constexpr long long kIntMax = std::numeric_limits<int>::max();
  StoppingOptions s = d;
  if (!f.warmup.empty()) s.warmup_iters = static_cast<int>(parse_int(f.warmup, "--warmup", 0, kIntMax));
  if (!f.min_iters.empty()) s.min_iters = static_cast<int>(parse_int(f.min_iters, "--min-iters", 1, kIntMax));
  if (!f.max_iters.empty()) s.max_iters = static_cast<int>(parse_int(f.max_iters, "--max-iters", 1, kIntMax));
  if (!f.max_noise.empty()) {
    const double pct = parse_double(f.max_noise, "--max-noise", 0, 100);
    if (pct <= 0) throw std::invalid_argument("--max-noise: must be a positive percentage, got " + f.max_noise);
    s.max_noise = pct / 100.0;
  }
  if (!f.max_time.empty()) {
    s.max_time_s = parse_double(f.max_time, "--max-time", 0, 86400);
    if (s.max_time_s <= 0) throw std::invalid_argument("--max-time: must be positive seconds, got " + f.max_time);
  }
  if (!f.iters.empty()) s.fixed_iters = static_cast<int>(parse_int(f.iters, "--iters", 1, kIntMax));
  // Only a --min-iters above the default --max-iters (or the reverse) conflicts; say which flag.
  if (s.max_iters < s.min_iters) {
    throw std::invalid_argument(f.max_iters.empty()
                                    ? "--min-iters: " + f.min_iters + " is above --max-iters " + std::to_string(s.max_iters)
                                    : "--max-iters: " + f.max_iters + " is below --min-iters " + std::to_string(s.min_iters));
  }
  s.validate();
  return s;
}

nlohmann::json stopping_options_json(const StoppingOptions& s) {
  nlohmann::json j = {{"warmup", s.warmup_iters}, {"min_iters", s.min_iters}, {"max_iters", s.max_iters},
                      {"max_noise_pct", s.max_noise * 100}, {"max_time_s", s.max_time_s}};
  j["iters"] = s.fixed_iters ? nlohmann::json(*s.fixed_iters) : nlohmann::json(nullptr);
  return j;
}

void add_output_flags(CLI::App& app, OutputFlags& flags) {
  app.add_option("-o,--out", flags.out, "Write results (dpbench-results JSON) to this file, rewritten atomically after every point "
                 "(an existing file is replaced unless --resume)");
  app.add_flag("--resume", flags.resume, "Continue the --out file: keep its points and skip them");
}

void validate_output_flags(const OutputFlags& flags) {
  if (flags.resume && flags.out.empty()) throw std::invalid_argument("--resume: needs --out FILE to resume");
  if (!flags.out.empty()) ResultsFile::check_writable(flags.out, "--out");
}

std::optional<ResultsFile> open_results_file(const OutputFlags& flags, const ResultsHeader& header) {
  if (flags.out.empty()) return std::nullopt;
  return flags.resume ? ResultsFile::resume(flags.out, header)
                      : ResultsFile::create(flags.out, header);
}

}  // namespace dpb::cli
