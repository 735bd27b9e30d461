// `dpbench train` flags for sync frequency, compression and convergence (issue 13): --accum,
// --comm-dtype, --lr-scaling (sweep axes), --lr-base-batch, --warmup-steps, --target-loss and its
// evaluation/probe settings. Lists are captured as strings and parsed here; scalars are typed by
// CLI11 with range validators (cli_lists.h).
#pragma once
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "train/train_point.h"

namespace dpb::cli {

struct SyncFlags {
  std::string accum = "1";
  std::string comm_dtype;  // empty: the precision
  std::string lr_scaling = "none";
  int lr_base_batch = 32;
  int warmup_steps = 0;
  std::optional<double> target_loss;
  int target_max_steps = 2000;
  int eval_every = 5;
  int eval_samples = 512;
  int probe_every = 4;
};

// The sweep axes; the shared settings go into `config` (lr schedule, convergence).
struct SyncSettings {
  std::vector<int> accums;
  std::vector<std::optional<DType>> comm_dtypes;  // nullopt: the precision
  std::vector<LrScaling> lr_scalings;
};

void add_sync_flags(CLI::App& app, SyncFlags& flags);
// Throws std::invalid_argument naming the flag.
SyncSettings parse_sync_flags(const SyncFlags& flags, TrainBenchConfig& config);
// invocation.options entries for the shared settings (the axes' come from train_point_axes()).
void add_sync_options(nlohmann::json& options, const TrainBenchConfig& config);

}  // namespace dpb::cli
