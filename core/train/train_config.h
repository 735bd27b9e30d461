// The configuration of one data-parallel training run (one sweep point), passed down by value.
#pragma once
#include <cstddef>
#include <cstdint>

#include "collectives/rank_threads.h"
#include "device/dtype.h"
#include "train/loss_scaler.h"
#include "train/model_spec.h"
#include "train/optimizer.h"

namespace dpb {

struct TrainConfig {
  ModelSpec model;
  DType precision = DType::f32;  // weights, activations, gradients and communication
  OptimizerConfig optimizer;
  int local_batch = 32;                                // samples per rank per step
  std::size_t bucket_bytes = std::size_t{25} << 20;   // --bucket-mb (0: one bucket per tensor)
  std::size_t first_bucket_bytes = std::size_t{1} << 20;
  bool overlap = true;  // start a bucket's all-reduce as soon as its gradients are ready
  Launch launch = Launch::thread_per_rank;  // a host thread per rank enqueues its own step
  std::uint64_t seed = 1;
  // Used when precision is fp16 (enabled is set by the trainer from the precision).
  LossScalerConfig scaler;
};

}  // namespace dpb
