#include "train/replica.h"

namespace dpb {

Replica::Replica(Backend& backend, int rank_, int device_, const TrainConfig& config, const BucketPlan& plan)
    : rank(rank_), device(device_) {
  const DType t = config.precision;
  const std::size_t es = dtype_size(t);
  const auto batch = static_cast<std::size_t>(config.local_batch);
  const std::size_t n = plan.total_elements;

  master = backend.allocate(device, n * sizeof(float));
  if (t != DType::f32) weights = backend.allocate(device, n * es);
  grads = backend.allocate(device, n * es);
  state1 = backend.allocate(device, n * sizeof(float));
  if (config.optimizer.kind == OptimizerKind::adamw) state2 = backend.allocate(device, n * sizeof(float));

  const auto& w = config.model.widths;
  input = backend.allocate(device, batch * static_cast<std::size_t>(w.front()) * es);
  labels = backend.allocate(device, batch * sizeof(std::int32_t));
  row_loss = backend.allocate(device, batch * sizeof(float));
  skip_flag = backend.allocate(device, sizeof(float));
  for (int l = 0; l < config.model.layers(); ++l) {
    const std::size_t out = batch * static_cast<std::size_t>(w[static_cast<std::size_t>(l) + 1]) * es;
    z.push_back(backend.allocate(device, out));
    if (l + 1 < config.model.layers()) a.push_back(backend.allocate(device, out));
  }
  const std::size_t widest = batch * static_cast<std::size_t>(config.model.max_width()) * es;
  grad_ping = backend.allocate(device, widest);
  grad_pong = backend.allocate(device, widest);

  for (std::size_t b = 0; b < plan.buckets.size(); ++b) bucket_ready.push_back(backend.make_event(device, false));
  backward_done = backend.make_event(device, false);
  comm_done = backend.make_event(device, false);

  compute = backend.make_stream(device);
  comm = backend.make_stream(device);
  ops = make_model_ops(backend, *compute);

  // Gradient padding is never written by a kernel and must be zero (it is all-reduced).
  compute->fill(t, grads.data(), n, 0.0);
  compute->fill(DType::f32, state1.data(), n, 0.0);
  if (state2) compute->fill(DType::f32, state2.data(), n, 0.0);
  compute->fill(DType::f32, skip_flag.data(), 1, 0.0);

  host_input = backend.allocate_pinned(input.bytes());
  host_labels = backend.allocate_pinned(batch * sizeof(std::int32_t));
  host_loss = backend.allocate_pinned(batch * sizeof(float));
  host_skip_flag = backend.allocate_pinned(sizeof(float));
}

}  // namespace dpb
