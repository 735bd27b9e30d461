// The parts of a train record that describe the model and its convergence (core/train/
// train_point.h lists the rest): figures counted from the model as executed, the real model's
// reference figures (source "model", with their citation), time-to-target, the gradient noise
// scale and what Pollux derives from it.
#pragma once
#include <optional>

#include "results/point_record.h"
#include "train/convergence.h"
#include "train/model_spec.h"
#include "train/train_point.h"
#include "train/trainer.h"

namespace dpb {

// metrics param_count, tensor_count, flops_per_sample (+ *_reference for real-layout presets);
// more.model {name, what, seq, reference_source}.
void add_model_figures(PointRecord& rec, const ModelSpec& model, int batch);

// metrics steps_to_target, samples_to_target, time_to_target_s, heldout_loss_final,
// gradient_noise_scale, critical_batch, statistical_efficiency, goodput; more.convergence.
void add_convergence(PointRecord& rec, const ConvergenceResult& c, const TrainPointSpec& spec, const Trainer& trainer,
                     std::optional<double> samples_per_s, int base_batch);

}  // namespace dpb
