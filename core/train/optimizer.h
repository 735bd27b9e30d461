// Optimizer configuration (SGD with momentum, AdamW) on fp32 master weights. The per-element
// updates live in kernels/train_math.h; this is the host side: names, defaults, validation and
// the per-step hyper-parameters (AdamW's bias corrections depend on the applied-step count,
// which does not advance on steps the loss scaler skips).
#pragma once
#include <cstdint>
#include <optional>
#include <string_view>

#include "train_math.h"

namespace dpb {

struct OptimizerConfig {
  OptimizerKind kind = OptimizerKind::adamw;
  float lr = 1e-3f;
  float momentum = 0.9f;  // sgd
  float beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f;  // adamw
  float weight_decay = 0.01f;

  // Throws std::invalid_argument naming --lr when out of range.
  void validate() const;
};

// The defaults for `kind`, with `lr` when given: sgd lr 0.05 momentum 0.9 wd 0; adamw lr 1e-3
// betas (0.9, 0.999) eps 1e-8 wd 0.01 (torch.optim.AdamW's).
OptimizerConfig default_optimizer(OptimizerKind kind, std::optional<float> lr = std::nullopt);

std::string_view optimizer_name(OptimizerKind kind);
// "sgd" | "adamw"; throws std::invalid_argument naming --optimizer.
OptimizerKind parse_optimizer(std::string_view text);

// The double whose decimal form is the float's shortest round-trip form (1e-3f -> 0.001, not
// 0.0010000000474974513), for writing float settings into results files.
double float_as_decimal(float v);

// Hyper-parameters for applying step `t` (1-based count of applied steps).
OptimizerHyper optimizer_hyper(const OptimizerConfig& config, std::int64_t t, float inv_loss_scale);

}  // namespace dpb
