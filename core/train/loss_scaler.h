// Dynamic loss scaling for fp16 training (torch.cuda.amp.GradScaler's rule): the loss gradient is
// multiplied by `scale` so small gradients survive fp16; when any all-reduced gradient is inf/NaN
// the step is skipped and the scale halves; after `growth_interval` consecutive clean steps it
// doubles. The overflow decision is taken on the all-reduced gradients, which are identical on
// every rank, so every rank skips the same steps.
#pragma once
#include <cstdint>

namespace dpb {

struct LossScalerConfig {
  bool enabled = false;          // on for fp16, off (scale 1) otherwise
  float init_scale = 65536.0f;   // 2^16
  float growth_factor = 2.0f;
  float backoff_factor = 0.5f;
  int growth_interval = 2000;    // clean steps before the scale grows

  // Throws std::invalid_argument naming --loss-scale-init / --loss-scale-interval.
  void validate() const;
};

class LossScaler {
 public:
  explicit LossScaler(const LossScalerConfig& config);

  float scale() const { return scale_; }
  // Records one step's overflow result; returns true when the step must be skipped.
  bool update(bool found_nonfinite);
  std::int64_t skipped_steps() const { return skipped_; }
  std::int64_t growths() const { return growths_; }

 private:
  LossScalerConfig config_;
  float scale_;
  int clean_steps_ = 0;
  std::int64_t skipped_ = 0;
  std::int64_t growths_ = 0;
};

}  // namespace dpb
