#include "train/train_plan_check.h"

#include <string>

#include "sweep/memory_plan.h"
#include "device/error.h"

namespace dpb {

namespace {

std::size_t parameter_bytes(const TrainPointSpec& spec) {
  const std::size_t n = spec.model.param_count();
  const std::size_t es = dtype_size(spec.precision);
  std::size_t per_param = sizeof(float) /* master */ + es /* gradients */ + sizeof(float) /* state 1 */;
  if (spec.optimizer == OptimizerKind::adamw) per_param += sizeof(float);
  if (spec.precision != DType::f32) per_param += es;  // working weights
  return saturating_mul(n, per_param);
}

std::size_t activation_bytes(const TrainPointSpec& spec) {
  std::size_t elems = 0;
  for (int w : spec.model.widths) elems = saturating_add(elems, static_cast<std::size_t>(w));
  return saturating_mul(saturating_mul(static_cast<std::size_t>(spec.batch), elems), dtype_size(spec.precision));
}

}  // namespace

std::size_t train_rank_memory_bytes(const TrainPointSpec& spec) {
  return saturating_add(parameter_bytes(spec), activation_bytes(spec));
}

void check_train_plan(const Backend& backend, const std::vector<TrainPointSpec>& specs) {
  for (const auto& spec : specs) {
    const std::size_t params = parameter_bytes(spec), acts = activation_bytes(spec);
    const bool model_heavier = params >= acts;
    const std::string what =
        "model " + spec.model.name + ": " + std::to_string(spec.model.param_count()) + " parameters with " +
        std::string(dtype_name(spec.precision)) + " gradients and " + std::string(optimizer_name(spec.optimizer)) +
        " state, " + format_bytes(params) + "; activations of batch " + std::to_string(spec.batch) + ", " +
        format_bytes(acts);
    check_device_memory(backend, spec.devices, saturating_add(params, acts), model_heavier ? "model" : "local_batch",
                        what);
  }
}

}  // namespace dpb
