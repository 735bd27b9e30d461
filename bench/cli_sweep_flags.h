// Shared CLI flags for sweeping commands (allreduce, train):
//   ranks     -g/--gpus 1,2,4 (alias --ranks), --devices 0,1,2,3 (repeats allowed)
//   stopping  --warmup W, --min-iters N, --max-iters N, --max-noise PCT, --max-time S, --iters K
//   output    --out FILE.json, --resume
// Flags are captured as strings and parsed by the parse_* functions, so every bad value gives
// one std::invalid_argument naming the flag (main prints it as one error line, exit code 2).
#pragma once
#include <optional>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "measure/stopping.h"
#include "results/results_file.h"
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

struct StoppingFlags {
  std::string warmup, min_iters, max_iters, max_noise, max_time, iters;  // empty: default
};

// `defaults` are shown in --help and used for flags not given.
void add_stopping_flags(CLI::App& app, StoppingFlags& flags, const StoppingOptions& defaults);
StoppingOptions parse_stopping_flags(const StoppingFlags& flags, const StoppingOptions& defaults);
nlohmann::json stopping_options_json(const StoppingOptions& s);

struct OutputFlags {
  std::string out;  // empty: no results file
  bool resume = false;
};

void add_output_flags(CLI::App& app, OutputFlags& flags);
// --resume without --out is an error naming --resume. When --out is given, checks the path is
// writable (ResultsFile::check_writable) so a bad path fails before any measuring.
void validate_output_flags(const OutputFlags& flags);
// The results file --out/--resume ask for (created, or resumed with its points kept); empty
// without --out.
std::optional<ResultsFile> open_results_file(const OutputFlags& flags, const ResultsHeader& header);

}  // namespace dpb::cli
