#include "train/optimizer.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "device/error.h"

namespace dpb {

void OptimizerConfig::validate() const {
  if (!(lr > 0.0f) || !std::isfinite(lr) || lr > 10.0f) {
    throw SettingError("lr", "must be in (0, 10], got " + std::to_string(lr));
  }
}

OptimizerConfig default_optimizer(OptimizerKind kind, std::optional<float> lr) {
  OptimizerConfig c;
  c.kind = kind;
  if (kind == OptimizerKind::sgd) {
    c.lr = 0.05f;
    c.weight_decay = 0.0f;
  }
  if (lr) c.lr = *lr;
  return c;
}

std::string_view optimizer_name(OptimizerKind kind) { return kind == OptimizerKind::sgd ? "sgd" : "adamw"; }

OptimizerKind parse_optimizer(std::string_view text) {
  if (text == "sgd") return OptimizerKind::sgd;
  if (text == "adamw") return OptimizerKind::adamw;
  throw SettingError("optimizer", "invalid value '" + std::string(text) + "' (expected sgd or adamw)");
}

double float_as_decimal(float v) {
  char buf[32];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf - 1, v);
  if (ec != std::errc()) return static_cast<double>(v);
  *end = '\0';
  return std::strtod(buf, nullptr);
}

OptimizerHyper optimizer_hyper(const OptimizerConfig& config, std::int64_t t, float inv_loss_scale) {
  OptimizerHyper h;
  h.kind = config.kind;
  h.lr = config.lr;
  h.momentum = config.momentum;
  h.beta1 = config.beta1;
  h.beta2 = config.beta2;
  h.eps = config.eps;
  h.weight_decay = config.weight_decay;
  h.inv_loss_scale = inv_loss_scale;
  if (config.kind == OptimizerKind::adamw) {
    const double td = static_cast<double>(t);
    h.bias_correction1 = static_cast<float>(1.0 - std::pow(static_cast<double>(config.beta1), td));
    h.bias_correction2_sqrt = static_cast<float>(std::sqrt(1.0 - std::pow(static_cast<double>(config.beta2), td)));
  }
  return h;
}

}  // namespace dpb
