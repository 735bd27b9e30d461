#include "train/loss_scaler.h"

#include <cmath>
#include <stdexcept>
#include <string>

#include "device/error.h"

namespace dpb {

void LossScalerConfig::validate() const {
  if (!(init_scale > 0.0f) || !std::isfinite(init_scale)) {
    throw SettingError("loss_scale_init", "must be a positive finite number");
  }
  if (growth_interval < 1) throw SettingError("loss_scale_interval", "must be at least 1");
  if (!(growth_factor > 1.0f) || !(backoff_factor > 0.0f && backoff_factor < 1.0f)) {
    throw std::invalid_argument("loss scaler: growth factor must be > 1 and backoff in (0, 1)");
  }
}

LossScaler::LossScaler(const LossScalerConfig& config)
    : config_(config), scale_(config.enabled ? config.init_scale : 1.0f) {}

bool LossScaler::update(bool found_nonfinite) {
  if (!config_.enabled) return false;
  if (found_nonfinite) {
    scale_ *= config_.backoff_factor;
    clean_steps_ = 0;
    ++skipped_;
    return true;
  }
  if (++clean_steps_ >= config_.growth_interval) {
    const float grown = scale_ * config_.growth_factor;
    if (std::isfinite(grown)) {
      scale_ = grown;
      ++growths_;
    }
    clean_steps_ = 0;
  }
  return false;
}

}  // namespace dpb
