#include "train/replica.h"

#include <algorithm>
#include <stdexcept>

namespace dpb {

Replica::Replica(Backend& backend, int rank_, int device_, const TrainConfig& config, const BucketPlan& plan)
    : rank(rank_), device(device_) {
  const DType t = config.precision;
  const std::size_t es = dtype_size(t);
  const auto batch = static_cast<std::size_t>(config.local_batch);
  const auto accum = static_cast<std::size_t>(config.accum);
  const std::size_t n = plan.total_elements;
  const ModelSpec& m = config.model;

  master = backend.allocate(device, n * sizeof(float));
  if (t != DType::f32) weights = backend.allocate(device, n * es);
  grads = backend.allocate(device, n * es);
  state1 = backend.allocate(device, n * sizeof(float));
  if (config.optimizer.kind == OptimizerKind::adamw) state2 = backend.allocate(device, n * sizeof(float));
  if (config.accum > 1) accum_grads = backend.allocate(device, n * es);
  if (config.comm_type() != t) comm_grads = backend.allocate(device, n * dtype_size(config.comm_type()));

  input = backend.allocate(device, batch * static_cast<std::size_t>(m.input_dim()) * es);
  labels = backend.allocate(device, accum * batch * sizeof(std::int32_t));
  row_loss = backend.allocate(device, accum * batch * sizeof(float));
  skip_flag = backend.allocate(device, sizeof(float));
  std::size_t prev = batch * static_cast<std::size_t>(m.input_dim());
  std::size_t widest = prev;
  std::size_t max_seq = 0, max_head = 0;
  for (const LayerSpec& l : m.chain) {
    const auto rows = static_cast<std::size_t>(l.rows(config.local_batch));
    const std::size_t in = rows * static_cast<std::size_t>(l.in), out = rows * static_cast<std::size_t>(l.out);
    x.push_back(in == prev ? DeviceBuffer() : backend.allocate(device, in * es));
    z.push_back(backend.allocate(device, out * es));
    a.push_back(l.activation ? backend.allocate(device, out * es) : DeviceBuffer());
    if (l.kind == LayerKind::attention) {
      const auto seq = static_cast<std::size_t>(l.seq), hd = static_cast<std::size_t>(l.in / l.heads);
      s.push_back(backend.allocate(device, rows / seq * static_cast<std::size_t>(l.heads) * seq * seq * es));
      max_seq = std::max(max_seq, seq);
      max_head = std::max(max_head, hd);
    } else {
      s.push_back(DeviceBuffer());
    }
    widest = std::max({widest, in, out});
    prev = out;
  }
  grad_ping = backend.allocate(device, widest * es);
  grad_pong = backend.allocate(device, widest * es);
  if (max_seq) {
    att_ds = backend.allocate(device, max_seq * max_seq * es);
    att_g = backend.allocate(device, max_seq * max_head * es);
  }

  for (std::size_t b = 0; b < plan.buckets.size(); ++b) bucket_ready.push_back(backend.make_event(device, false));
  backward_done = backend.make_event(device, false);
  comm_done = backend.make_event(device, false);

  compute = backend.make_stream(device);
  comm = backend.make_stream(device);
  ops = backend.make_model_ops(*compute);

  // Gradient padding (and embedding rows a step does not look up) is never written by a kernel
  // and must be zero (it is all-reduced).
  compute->fill(t, grads.data(), n, 0.0);
  if (accum_grads) compute->fill(t, accum_grads.data(), n, 0.0);
  if (comm_grads) compute->fill(config.comm_type(), comm_grads.data(), n, 0.0);
  compute->fill(DType::f32, state1.data(), n, 0.0);
  if (state2) compute->fill(DType::f32, state2.data(), n, 0.0);
  compute->fill(DType::f32, skip_flag.data(), 1, 0.0);
  compute->fill(DType::f32, row_loss.data(), accum * batch, 0.0);

  input_bytes = input.bytes();
  label_bytes = batch * sizeof(std::int32_t);
  host_input = backend.allocate_pinned(accum * input_bytes);
  host_labels = backend.allocate_pinned(accum * label_bytes);
  host_loss = backend.allocate_pinned(accum * batch * sizeof(float));
  host_skip_flag = backend.allocate_pinned(sizeof(float));
}

const void* Replica::layer_input(int layer) const {
  const auto l = static_cast<std::size_t>(layer);
  if (x[l]) return x[l].data();
  return layer == 0 ? input.data() : layer_output(layer - 1);
}

void* Replica::layer_output(int layer) const {
  const auto l = static_cast<std::size_t>(layer);
  return a[l] ? a[l].data() : z[l].data();
}

}  // namespace dpb
