// Shared CLI flags for sweeping commands (allreduce, train):
//   ranks     -g/--gpus 1,2,4 (alias --ranks), --devices 0,1,2,3 (repeats allowed)
//   stopping  -w/--warmup W, --min-iters N, --max-iters N, --max-noise PCT, --max-time S,
//             -n/--iters K (nccl-tests' short names), --repeats R
//   output    -o/--out FILE.json, --resume, --resume-force, --retry-failed
// A core SettingError (a setting found wrong before measuring) is turned into an error naming the
// flag by flag_error / flag_for_setting.
// Scalar flags are typed by CLI11 with this project's validators (cli_lists.h); lists and sizes are
// captured as strings and parsed here by the parse_* functions. Either way every bad value gives one
// error naming the flag (main prints it as one error line, exit code 2).
#pragma once
#include <map>
#include <optional>
#include <stdexcept>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "measure/stopping.h"
#include "results/results_file.h"
#include "results/results_lock.h"
#include "device/error.h"
#include "sweep/sweep.h"
#include "sweep/rank_devices.h"

namespace dpb::cli {

struct RankFlags {
  std::string gpus;     // empty: default_ranks
  std::string devices;  // empty: 0..N-1
};

void add_rank_flags(CLI::App& app, RankFlags& flags);

// Parses and validates against the backend's device count. `default_ranks` applies when neither
// --gpus nor --devices is given.
RankPlan parse_rank_flags(const RankFlags& flags, int device_count, int default_ranks);

// Typed by CLI11 at parse time (validators int_in / number_in): a bad value is a parse error naming
// the flag, before anything runs. Unset optionals take the command's defaults.
struct StoppingFlags {
  std::optional<int> warmup, min_iters, max_iters, iters;
  std::optional<double> max_noise, max_time;  // percent, seconds
  int repeats = 1;
};

// `defaults` are shown in --help and used for flags not given.
void add_stopping_flags(CLI::App& app, StoppingFlags& flags, const StoppingOptions& defaults);
StoppingOptions parse_stopping_flags(const StoppingFlags& flags, const StoppingOptions& defaults);
nlohmann::json stopping_options_json(const StoppingOptions& s);
// The stopping rule in words for the console header ("warm-up 3 calls, then until ..."); `unit` is
// what one iteration is ("calls", "steps").
std::string stopping_text(const StoppingOptions& s, const std::string& unit);

struct OutputFlags {
  std::string out;  // empty: no results file
  bool resume = false;
  bool resume_force = false;  // implies resume
  bool retry_failed = false;  // implies resume
  CLI::Option* out_option = nullptr;  // to tell `--out ''` from no --out
  bool resuming() const { return resume || resume_force || retry_failed; }
};

void add_output_flags(CLI::App& app, OutputFlags& flags);
// --resume without --out is an error naming --resume; `--out ''` an error naming --out. When
// --out is given, checks the path is writable (ResultsFile::check_writable) so a bad path fails
// before any measuring.
void validate_output_flags(const OutputFlags& flags);
// Locks the --out file for this run (results_lock.h): another run writing it is an error naming
// --out and that run's pid. Empty without --out.
std::optional<ResultsLock> lock_output(const OutputFlags& flags);
// The results file --out/--resume ask for (created, or resumed with its points kept); empty
// without --out. A resume mismatch is an error naming the flag of the first difference.
std::optional<ResultsFile> open_results_file(const OutputFlags& flags, const ResultsHeader& header);
// "# results: <file>" or, when no point was ok and an existing file was kept, where they went.
std::string results_location_line(const OutputFlags& flags, const std::optional<ResultsFile>& file);
std::string results_location_line(const ResultsFile& file);
// "# points: 12 ok, 1 failed, ..." after a sweep.
void print_points_footer(std::ostream& out, const SweepOutcome& outcome);

// The flag that sets a core setting or a recorded option ("gpus" -> "--gpus", "stopping.iters"
// -> "-n/--iters", "max_bytes" -> "-e/--maxbytes"); unknown keys become "--<key-with-dashes>".
std::string flag_for_setting(const std::string& setting);
// `message` with every "{setting}" reference replaced by that setting's flag.
std::string with_flags(const std::string& message);
// std::invalid_argument("<flag> <typed value>: <message>") for a core SettingError; `typed` maps
// settings to the text the user gave (left out when absent).
std::invalid_argument flag_error(const SettingError& e, const std::map<std::string, std::string>& typed = {});

}  // namespace dpb::cli
