#include "train/train_point_figures.h"

#include <cmath>

namespace dpb {
namespace {
std::optional<double> opt(double v) { return std::isfinite(v) ? std::optional<double>(v) : std::nullopt; }
}  // namespace

void add_model_figures(PointRecord& rec, const ModelSpec& model, int batch) {
  (void)batch;
  rec.metrics["param_count"] = Metric{static_cast<double>(model.param_count()), "parameters",
                                      "parameters of the trained tensors (counted from the layout)", "derived"};
  rec.metrics["tensor_count"] = Metric{static_cast<double>(model.params().size()), "tensors",
                                       "parameter tensors, as DDP buckets them", "derived"};
  rec.metrics["flops_per_sample"] =
      Metric{model.flops_per_sample(), "FLOP/sample",
             "training FLOPs per sample (token for transformers) of the executed GEMMs: 3 x 2 x forward multiply-adds",
             "derived"};
  nlohmann::json info = {{"name", model.name}, {"what", model.what}, {"seq", model.seq}};
  if (model.reference_tensors > 0) {
    const std::string& src = model.reference_source;
    rec.metrics["param_count_reference"] =
        Metric{static_cast<double>(model.reference_params), "parameters", "real model: " + src, "model"};
    rec.metrics["tensor_count_reference"] =
        Metric{static_cast<double>(model.reference_tensors), "tensors", "real model: " + src, "model"};
    rec.metrics["flops_per_sample_reference"] =
        Metric{model.reference_flops_per_sample, "FLOP/sample", "real model: " + src, "model"};
    info["reference_source"] = src;
  }
  rec.more["model"] = std::move(info);
}

void add_convergence(PointRecord& rec, const ConvergenceResult& c, const TrainPointSpec& spec, const Trainer& trainer,
                     std::optional<double> samples_per_s, int base_batch) {
  const double per_update = static_cast<double>(trainer.samples_per_step());
  std::optional<double> steps, samples;
  if (c.steps_to_target) {
    steps = static_cast<double>(*c.steps_to_target);
    samples = *steps * per_update;
  }
  rec.metrics["steps_to_target"] =
      Metric{steps, "steps", "optimizer steps until the held-out loss reached the target loss (null: not reached)", "measured"};
  rec.metrics["samples_to_target"] = Metric{samples, "samples", "steps_to_target x samples per update", "derived"};
  rec.metrics["time_to_target_s"] =
      Metric{c.time_to_target_s, "s", "wall time of the training steps until the target (evaluation excluded)", "measured"};
  rec.metrics["heldout_loss_final"] =
      Metric{opt(c.final_loss), "", "held-out loss at the convergence run's last evaluation", "measured"};
  rec.metrics["gradient_noise_scale"] =
      Metric{c.noise.b_noise, "samples",
             "B_noise = tr(Sigma)/|G|^2 from per-replica vs all-reduced gradient norms (McCandlish et al. 2018)",
             "derived"};
  rec.metrics["critical_batch"] =
      Metric{c.noise.b_noise, "samples", "critical batch estimate: B_crit ~ B_noise (McCandlish et al. 2018)", "derived"};
  std::optional<double> eff, goodput;
  if (c.noise.b_noise) {
    eff = statistical_efficiency(*c.noise.b_noise, base_batch, per_update);
    if (samples_per_s) goodput = *samples_per_s * *eff;
  }
  rec.metrics["statistical_efficiency"] =
      Metric{eff, "ratio", "Pollux: (B_noise + M0) / (B_noise + M), M0 = the lr base batch, M = samples per update", "model"};
  rec.metrics["goodput"] = Metric{goodput, "samples/s", "Pollux: samples_per_s x statistical_efficiency", "model"};
  nlohmann::json curve = nlohmann::json::array();
  for (const auto& [step, loss] : c.curve) curve.push_back({step, opt(loss) ? nlohmann::json(loss) : nlohmann::json()});
  const auto num = [](const std::optional<double>& v) { return v ? nlohmann::json(*v) : nlohmann::json(); };
  rec.more["convergence"] = {{"target_loss", c.target_loss},
                             {"steps_run", c.steps_run},
                             {"train_time_s", c.train_time_s},
                             {"curve", std::move(curve)},
                             {"samples_per_update", per_update},
                             {"ranks", spec.ranks()},
                             {"noise", {{"probes", c.noise.probes},
                                        {"b_small", c.noise.b_small},
                                        {"b_big", c.noise.b_big},
                                        {"small_sq", c.noise.small_sq},
                                        {"big_sq", c.noise.big_sq},
                                        {"grad_sq", num(c.noise.grad_sq)},
                                        {"trace", num(c.noise.trace)}}}};
}

}  // namespace dpb
