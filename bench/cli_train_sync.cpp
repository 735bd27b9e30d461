#include "cli_train_sync.h"

#include <stdexcept>

#include "cli_lists.h"

namespace dpb::cli {

void add_sync_flags(CLI::App& app, SyncFlags& flags) {
  app.add_option("--accum", flags.accum,
                 "Gradient accumulation: micro-batches per optimizer step, one all-reduce per step (DDP no_sync); "
                 "comma-separated sweep axis")
      ->capture_default_str();
  app.add_option("--comm-dtype", flags.comm_dtype,
                 "All-reduce dtype on fp32 training: fp32, bf16, fp16 (cast before, back after, as DDP's "
                 "compression hooks); comma-separated sweep axis (default: the precision)");
  app.add_option("--lr-scaling", flags.lr_scaling,
                 "Learning-rate scaling with samples per update: none, linear, sqrt (comma-separated sweep axis)")
      ->capture_default_str();
  app.add_option("--lr-base-batch", flags.lr_base_batch,
                 "Samples per update the base --lr is for (lr scaling; Pollux's base batch M0)")
      ->check(int_in(1, 1 << 24))
      ->capture_default_str();
  app.add_option("--warmup-steps", flags.warmup_steps, "Linear lr warm-up over this many steps (0: none)")
      ->check(int_in(0, 1 << 24))
      ->capture_default_str();
  app.add_option("--target-loss", flags.target_loss,
                 "Per point, first train until the held-out loss reaches this (steps and time to target, gradient "
                 "noise scale, critical batch, statistical efficiency, goodput)")
      ->check(number_in(0, 1e6));
  app.add_option("--target-max-steps", flags.target_max_steps, "--target-loss: give up after this many steps")
      ->check(int_in(1, 1 << 24))
      ->capture_default_str();
  app.add_option("--eval-every", flags.eval_every, "--target-loss: evaluate the held-out loss every N steps")
      ->check(int_in(1, 1 << 24))
      ->capture_default_str();
  app.add_option("--eval-samples", flags.eval_samples, "--target-loss: held-out samples (tokens)")
      ->check(int_in(1, 1 << 24))
      ->capture_default_str();
  app.add_option("--probe-every", flags.probe_every, "--target-loss: gradient-norm probe every N steps (2+ ranks)")
      ->check(int_in(1, 1 << 24))
      ->capture_default_str();
}

SyncSettings parse_sync_flags(const SyncFlags& f, TrainBenchConfig& config) {
  SyncSettings s;
  s.accums = parse_positive_int_list(f.accum, "--accum");
  for (int a : s.accums) {
    if (a > 4096) throw std::invalid_argument("--accum: " + std::to_string(a) + " is above the limit of 4096");
  }
  if (f.comm_dtype.empty()) {
    s.comm_dtypes.push_back(std::nullopt);
  } else {
    for (DType d : parse_list<DType>(f.comm_dtype, "--comm-dtype", [](const std::string& x) { return parse_dtype(x); })) {
      s.comm_dtypes.emplace_back(d);
    }
  }
  s.lr_scalings =
      parse_list<LrScaling>(f.lr_scaling, "--lr-scaling", [](const std::string& x) { return parse_lr_scaling(x); });
  config.lr_schedule.base_batch = f.lr_base_batch;
  config.lr_schedule.warmup_steps = f.warmup_steps;
  if (f.target_loss) {
    ConvergenceOptions c;
    c.target_loss = *f.target_loss;
    c.max_steps = f.target_max_steps;
    c.eval_every = f.eval_every;
    c.eval_samples = f.eval_samples;
    c.probe_every = f.probe_every;
    config.convergence = c;
  }
  return s;
}

void add_sync_options(nlohmann::json& options, const TrainBenchConfig& config) {
  options["lr_base_batch"] = config.lr_schedule.base_batch;
  options["warmup_steps"] = config.lr_schedule.warmup_steps;
  options["target_loss"] = config.convergence ? nlohmann::json(config.convergence->target_loss) : nlohmann::json(nullptr);
  if (config.convergence) {
    options["target_max_steps"] = config.convergence->max_steps;
    options["eval_every"] = config.convergence->eval_every;
    options["eval_samples"] = config.convergence->eval_samples;
    options["probe_every"] = config.convergence->probe_every;
  }
}

}  // namespace dpb::cli
