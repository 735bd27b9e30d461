// Time-to-target and the gradient noise scale, from one training run of a point's config.
//
// Time-to-target: train from the seed's initial weights until the loss on a fixed held-out set
// of the teacher-student data (SyntheticData::kHeldOutFirst on, the same samples for every point)
// reaches the target, evaluating every eval_every steps. Steps, samples and the wall time of the
// training steps until then are measured (evaluation and the probes' host arithmetic excluded; a
// probed step's extra device-to-host gradient copies are inside its time).
//
// Gradient noise scale (McCandlish et al. 2018, arXiv 1812.06162, App. A.1): from the squared
// norms of the per-replica mean gradient |G_small|^2 (batch B_small = per-rank samples per update)
// and of the all-reduced one |G_big|^2 (B_big = global samples per update), averaged over the
// probed steps,
//   |G|^2    = (B_big |G_big|^2 - B_small |G_small|^2) / (B_big - B_small)
//   tr(Sigma) = (|G_small|^2 - |G_big|^2) / (1/B_small - 1/B_big)
//   B_noise  = tr(Sigma) / |G|^2  (B_simple), the critical batch estimate.
// Needs two or more ranks. Statistical efficiency of a batch M against a base batch M0 (Pollux,
// Qiao et al. OSDI 2021, section 3.1, with phi = B_noise): E = (B_noise + M0) / (B_noise + M).
#pragma once
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "train/trainer.h"

namespace dpb {

struct ConvergenceOptions {
  double target_loss = 0;
  int max_steps = 2000;   // give up after this many steps (recorded as not reached)
  int eval_every = 5;
  int eval_samples = 512;
  int probe_every = 4;    // gradient norm probe every this many steps (more than one rank)
};

struct NoiseScale {
  int probes = 0;
  long long b_small = 0, b_big = 0;
  double small_sq = 0, big_sq = 0;  // averages over the probes
  std::optional<double> grad_sq, trace, b_noise;
};
NoiseScale estimate_noise_scale(const std::vector<GradientProbe>& probes);

// Pollux's statistical efficiency of batch m against base batch m0 for noise scale b_noise.
double statistical_efficiency(double b_noise, double m0, double m);

struct ConvergenceResult {
  double target_loss = 0;
  std::optional<std::int64_t> steps_to_target;
  std::optional<double> time_to_target_s;
  std::int64_t steps_run = 0;
  double train_time_s = 0;  // all steps run
  double final_loss = 0;    // held-out, at the last evaluation
  std::vector<std::pair<std::int64_t, double>> curve;  // (steps done, held-out loss)
  NoiseScale noise;
};

ConvergenceResult run_to_target(Trainer& trainer, const ConvergenceOptions& options);

}  // namespace dpb
