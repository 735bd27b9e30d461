// The configuration of one data-parallel training run (one sweep point), passed down by value.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "collectives/rank_threads.h"
#include "device/dtype.h"
#include "train/loss_scaler.h"
#include "train/model_spec.h"
#include "train/optimizer.h"

namespace dpb {

// Learning-rate scaling with the samples per update (Goyal et al. 2017, arXiv 1706.02677: linear
// scaling with gradual warm-up; sqrt as Krizhevsky 2014 / Hoffer et al. 2017):
//   lr(t) = lr * f(B / base_batch) * min(1, t / warmup_steps),  f = 1, x or sqrt(x),
// B = global batch x accumulation steps, t the 1-based applied optimizer step.
enum class LrScaling { none, linear, sqrt };
std::string_view lr_scaling_name(LrScaling s);
LrScaling parse_lr_scaling(std::string_view text);  // throws std::invalid_argument naming --lr-scaling

struct LrSchedule {
  LrScaling scaling = LrScaling::none;
  int base_batch = 32;   // the batch the base lr is for (--lr-base-batch)
  int warmup_steps = 0;  // --warmup-steps (0: none)
  // The lr multiplier at applied step t (1-based) for `samples_per_update`.
  float factor(std::int64_t t, long long samples_per_update) const;
};

struct TrainConfig {
  ModelSpec model;
  DType precision = DType::f32;  // weights, activations, gradients
  // The all-reduce's type. Equal to precision, or fp16/bf16 on fp32 training: each bucket is cast
  // before its all-reduce and back after (DDP's fp16/bf16 compression hooks).
  std::optional<DType> comm_dtype;  // unset: the precision
  DType comm_type() const { return comm_dtype.value_or(precision); }
  OptimizerConfig optimizer;
  LrSchedule lr_schedule;
  int local_batch = 32;                                // samples per rank per micro-batch
  int accum = 1;  // micro-batches per optimizer step; one all-reduce per step (DDP's no_sync)
  std::size_t bucket_bytes = std::size_t{25} << 20;   // --bucket-mb (0: one bucket per tensor)
  std::size_t first_bucket_bytes = std::size_t{1} << 20;
  bool overlap = true;  // start a bucket's all-reduce as soon as its gradients are ready
  Launch launch = Launch::thread_per_rank;  // a host thread per rank enqueues its own step
  std::uint64_t seed = 1;
  // Used when precision is fp16 (enabled is set by the trainer from the precision).
  LossScalerConfig scaler;
};

}  // namespace dpb
