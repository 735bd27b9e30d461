// `dpbench train` flags for sync frequency, compression and convergence (issue 13): --accum,
// --comm-dtype, --lr-scaling (sweep axes), --lr-base-batch, --warmup-steps, --target-loss and its
// evaluation/probe settings. Captured as strings, parsed once into typed values here.
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
  std::string lr_base_batch = "32";
  std::string warmup_steps = "0";
  std::string target_loss;
  std::string target_max_steps = "2000";
  std::string eval_every = "5";
  std::string eval_samples = "512";
  std::string probe_every = "4";
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
