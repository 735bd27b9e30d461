#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "train/train_config.h"
#include "device/error.h"

namespace dpb {

std::string_view lr_scaling_name(LrScaling s) {
  switch (s) {
    case LrScaling::none: return "none";
    case LrScaling::linear: return "linear";
    case LrScaling::sqrt: return "sqrt";
  }
  return "none";
}

LrScaling parse_lr_scaling(std::string_view text) {
  if (text == "none") return LrScaling::none;
  if (text == "linear") return LrScaling::linear;
  if (text == "sqrt") return LrScaling::sqrt;
  throw SettingError("lr_scaling", "invalid value '" + std::string(text) + "' (expected none, linear or sqrt)");
}

float LrSchedule::factor(std::int64_t t, long long samples_per_update) const {
  if (base_batch < 1) throw SettingError("lr_base_batch", "must be at least 1");
  const double ratio = static_cast<double>(samples_per_update) / base_batch;
  double f = scaling == LrScaling::linear ? ratio : scaling == LrScaling::sqrt ? std::sqrt(ratio) : 1.0;
  if (warmup_steps > 0) f *= std::min(1.0, static_cast<double>(t) / warmup_steps);
  return static_cast<float>(f);
}

}  // namespace dpb
