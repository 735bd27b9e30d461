#include "train/convergence.h"

#include <chrono>
#include <stdexcept>

#include "train/synthetic_data.h"
#include "device/error.h"

namespace dpb {

NoiseScale estimate_noise_scale(const std::vector<GradientProbe>& probes) {
  NoiseScale n;
  n.probes = static_cast<int>(probes.size());
  if (probes.empty()) return n;
  n.b_small = probes.front().b_small;
  n.b_big = probes.front().b_big;
  for (const auto& p : probes) {
    n.small_sq += p.small_sq;
    n.big_sq += p.big_sq;
  }
  n.small_sq /= n.probes;
  n.big_sq /= n.probes;
  if (n.b_big <= n.b_small) return n;
  const double bs = static_cast<double>(n.b_small), bb = static_cast<double>(n.b_big);
  n.grad_sq = (bb * n.big_sq - bs * n.small_sq) / (bb - bs);
  n.trace = (n.small_sq - n.big_sq) / (1.0 / bs - 1.0 / bb);
  if (*n.grad_sq > 0 && *n.trace > 0) n.b_noise = *n.trace / *n.grad_sq;
  return n;
}

double statistical_efficiency(double b_noise, double m0, double m) { return (b_noise + m0) / (b_noise + m); }

ConvergenceResult run_to_target(Trainer& trainer, const ConvergenceOptions& o) {
  if (o.max_steps < 1 || o.eval_every < 1 || o.eval_samples < 1 || o.probe_every < 1) {
    throw SettingError("target_loss", "step, evaluation and probe counts must be positive");
  }
  ConvergenceResult res;
  res.target_loss = o.target_loss;
  std::vector<GradientProbe> probes;
  const auto eval = [&] {
    res.final_loss = trainer.evaluate(SyntheticData::kHeldOutFirst, o.eval_samples);
    res.curve.emplace_back(res.steps_run, res.final_loss);
    if (!res.steps_to_target && res.final_loss <= o.target_loss) {
      res.steps_to_target = res.steps_run;
      res.time_to_target_s = res.train_time_s;
    }
  };
  eval();
  while (!res.steps_to_target && res.steps_run < o.max_steps) {
    const bool probe = trainer.ranks() > 1 && res.steps_run % o.probe_every == 0;
    const auto t0 = std::chrono::steady_clock::now();
    StepResult r = trainer.step(probe);
    res.train_time_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    ++res.steps_run;
    if (r.probe) probes.push_back(*r.probe);
    if (res.steps_run % o.eval_every == 0 || res.steps_run == o.max_steps) eval();
  }
  res.noise = estimate_noise_scale(probes);
  return res;
}

}  // namespace dpb
