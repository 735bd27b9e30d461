#include "cli_sweep_flags.h"

#include <limits>
#include <map>
#include <stdexcept>

#include "cli_lists.h"
#include "results/results_file.h"
#include "results/results_resume.h"

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
  constexpr long long kIntMax = std::numeric_limits<int>::max();
  app.add_option("-w,--warmup", flags.warmup,
                 "Untimed warm-up iterations per point (default " + std::to_string(d.warmup_iters) + ")")
      ->check(int_in(0, kIntMax));
  app.add_option("--min-iters", flags.min_iters,
                 "Fewest timed iterations per point (default " + std::to_string(d.min_iters) + ")")
      ->check(int_in(1, kIntMax));
  app.add_option("--max-iters", flags.max_iters,
                 "Most timed iterations per point (default " + std::to_string(d.max_iters) + ")")
      ->check(int_in(1, kIntMax));
  app.add_option("--max-noise", flags.max_noise,
                 "Stop once the relative standard error of the mean is below this percentage (default " +
                     CLI::detail::to_string(d.max_noise * 100) + ")")
      ->check(number_in(0, 100, /*above_lo=*/true));
  app.add_option("--max-time", flags.max_time,
                 "Seconds of timed iterations per point before stopping anyway (default " +
                     CLI::detail::to_string(d.max_time_s) + ")")
      ->check(number_in(0, 86400, /*above_lo=*/true));
  app.add_option("-n,--iters", flags.iters, "Exactly this many timed iterations per point (no adaptive stopping)")
      ->check(int_in(1, kIntMax));
  app.add_option("--repeats", flags.repeats,
                 "Measure every point this many times, in interleaved rounds across the sweep (round-robin over "
                 "the points); the record keeps every sample and a summary per round")
      ->check(int_in(1, 1000))
      ->capture_default_str();
}

StoppingOptions parse_stopping_flags(const StoppingFlags& f, const StoppingOptions& d) {
  StoppingOptions s = d;
  s.warmup_iters = f.warmup.value_or(d.warmup_iters);
  s.min_iters = f.min_iters.value_or(d.min_iters);
  s.max_iters = f.max_iters.value_or(d.max_iters);
  if (f.max_noise) s.max_noise = *f.max_noise / 100.0;
  s.max_time_s = f.max_time.value_or(d.max_time_s);
  if (f.iters) s.fixed_iters = *f.iters;
  // What was asked for explicitly is honoured; defaults may give way to the time cap (with a reason).
  s.min_iters_exact = f.min_iters.has_value();
  s.warmup_exact = f.warmup.has_value();
  // Only a --min-iters above the default --max-iters (or the reverse) conflicts; say which flag.
  if (s.max_iters < s.min_iters) {
    throw std::invalid_argument(!f.max_iters ? "--min-iters: " + std::to_string(s.min_iters) + " is above --max-iters " +
                                                   std::to_string(s.max_iters)
                                             : "--max-iters: " + std::to_string(s.max_iters) + " is below --min-iters " +
                                                   std::to_string(s.min_iters));
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

std::string stopping_text(const StoppingOptions& s, const std::string& unit) {
  const std::string warmup = "warm-up " + std::to_string(s.warmup_iters) + " " + unit + ", then ";
  if (s.fixed_iters) return warmup + "exactly " + std::to_string(*s.fixed_iters) + " timed " + unit;
  return warmup + "until the rel. std. error of the mean <= " + CLI::detail::to_string(s.max_noise * 100) + "% (min " +
         std::to_string(s.min_iters) + " " + unit + "), or " + CLI::detail::to_string(s.max_time_s) + " s, or " +
         std::to_string(s.max_iters) + " " + unit;
}

void add_output_flags(CLI::App& app, OutputFlags& flags) {
  flags.out_option = app.add_option(
      "-o,--out", flags.out,
      "Write results (dpbench-results JSON) to this file, rewritten atomically after every point. An existing "
      "file is replaced only once this run has an ok point (else it is kept and this run's records go to "
      "NAME.failed.json); one run at a time may write a file");
  app.add_flag("--resume", flags.resume,
               "Continue the --out file: keep its points and skip them. Command, options and system must match");
  app.add_flag("--resume-force", flags.resume_force,
               "--resume even when options or system differ (the differences are recorded in the file)");
  app.add_flag("--retry-failed", flags.retry_failed,
               "--resume, and measure failed and timed-out points again (their records are replaced)");
}

void validate_output_flags(const OutputFlags& flags) {
  if (flags.out_option && flags.out_option->count() > 0 && flags.out.empty()) {
    throw std::invalid_argument("--out: the file name is empty (leave --out out to write no results file)");
  }
  if (flags.resuming() && flags.out.empty()) {
    const char* flag = flags.resume ? "--resume" : flags.resume_force ? "--resume-force" : "--retry-failed";
    throw std::invalid_argument(std::string(flag) + ": needs --out FILE to resume");
  }
  if (!flags.out.empty()) ResultsFile::check_writable(flags.out);
}

std::optional<ResultsLock> lock_output(const OutputFlags& flags) {
  if (flags.out.empty()) return std::nullopt;
  try {
    return ResultsLock(flags.out);
  } catch (const std::runtime_error& e) {
    throw std::invalid_argument(std::string("--out: ") + e.what());
  }
}

std::optional<ResultsFile> open_results_file(const OutputFlags& flags, const ResultsHeader& header) {
  if (flags.out.empty()) return std::nullopt;
  if (!flags.resuming()) return ResultsFile::create(flags.out, header);
  try {
    return ResultsFile::resume(flags.out, header, {flags.resume_force, flags.retry_failed});
  } catch (const ResumeMismatch& e) {
    const ResumeDifference& d = e.difference();
    auto text = [](const nlohmann::json& v) { return v.is_null() ? std::string("(none)") : v.dump(); };
    const std::string what = d.setting.rfind("system", 0) == 0 ? "another system (" + d.setting + ")"
                                                                 : flag_for_setting(d.setting);
    throw std::invalid_argument("--resume: '" + flags.out + "' was measured with " + what + " " + text(d.in_file) +
                                "; this run has " + text(d.in_run) +
                                " (run with the same options, use another --out, or --resume-force)");
  }
}

std::string results_location_line(const OutputFlags& flags, const std::optional<ResultsFile>& file) {
  (void)flags;
  return file ? results_location_line(*file) : std::string();
}

std::string results_location_line(const ResultsFile& file) {
  if (file.written_beside()) {
    return "# results: no point was ok, so " + file.path().string() +
           " was kept as it was; this run's records are in " + file.written_beside()->string() + "\n";
  }
  return "# results: " + file.path().string() + "\n";
}

std::string flag_for_setting(const std::string& setting) {
  static const std::map<std::string, std::string> kFlags = {
      {"min_bytes", "-b/--minbytes"},       {"max_bytes", "-e/--maxbytes"},
      {"factor", "-f/--stepfactor"},        {"stopping.iters", "-n/--iters"},
      {"stopping.warmup", "-w/--warmup"},   {"stopping.max_noise_pct", "--max-noise"},
      {"stopping.max_time_s", "--max-time"}, {"stopping.min_iters", "--min-iters"},
      {"stopping.max_iters", "--max-iters"}, {"stopping.repeats", "--repeats"},
      {"check", "-c/--check"},              {"placement", "--inplace/--out-of-place"},
      {"precision", "--dtype"},             {"timeout_s", "--timeout"},
      {"widths", "--model"},                {"param_count", "--model"},
      {"cpu_device_memory", "--cpu-device-memory"}, {"local_batch", "--batch"},
      {"bytes", "--size"}};
  if (auto it = kFlags.find(setting); it != kFlags.end()) return it->second;
  std::string key = setting.substr(setting.rfind('.') == std::string::npos ? 0 : setting.rfind('.') + 1);
  for (char& c : key) c = c == '_' ? '-' : c;
  return "--" + key;
}

std::string with_flags(const std::string& message) { return replace_setting_refs(message, flag_for_setting); }

std::invalid_argument flag_error(const SettingError& e, const std::map<std::string, std::string>& typed) {
  const auto it = typed.find(e.setting());
  return std::invalid_argument(flag_for_setting(e.setting()) + (it != typed.end() ? " " + it->second : "") + ": " +
                               with_flags(e.message()));
}

void print_points_footer(std::ostream& out, const SweepOutcome& outcome) {
  out << "# points: " << outcome.ok << " ok, " << outcome.failed << " failed";
  if (outcome.timeout) out << ", " << outcome.timeout << " timed out (sweep stopped)";
  if (outcome.already_done) out << ", " << outcome.already_done << " already in the results file";
  out << "\n";
}

}  // namespace dpb::cli
