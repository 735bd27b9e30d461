// The trainer's host-side reads: replica weights and their comparison, the held-out evaluation
// and the gradient noise probe's norms.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <span>
#include <stdexcept>
#include <utility>

#include "device/cpu_elementwise.h"
#include "train/trainer.h"

namespace dpb {
namespace {

double sum_sq(DType type, const void* data, std::size_t count) {
  std::vector<float> f(count);
  cpu::cast(DType::f32, f.data(), type, data, count);
  double s = 0;
  for (const float v : f) s += static_cast<double>(v) * static_cast<double>(v);
  return s;
}

}  // namespace

std::vector<float> Trainer::master_weights(int rank) {
  const int lane = rank - rank_base_;
  if (lane < 0 || lane >= static_cast<int>(replicas_.size())) {
    throw std::invalid_argument("trainer: rank " + std::to_string(rank) + "'s weights live in another process");
  }
  Replica& r = *replicas_[static_cast<std::size_t>(lane)];
  const std::size_t bytes = plan_.total_elements * sizeof(float);
  if (host_readback_.bytes() != bytes) host_readback_ = backend_->allocate_pinned(bytes);
  r.compute->copy_to_host(host_readback_.data(), r.master.data(), bytes);
  Stream* streams[] = {r.compute.get(), r.comm.get()};
  watchdog_.wait(streams, "reading rank " + std::to_string(rank) + "'s weights");
  return gather_params(config_.model, plan_, std::span<const float>(host_readback_.as<float>(), plan_.total_elements));
}

namespace {

// Elements of `w` that differ bitwise from `ref`, and the largest difference among them.
std::pair<std::size_t, double> compare_weights(std::span<const float> ref, std::span<const float> w) {
  std::size_t diff = 0;
  double max_diff = 0;
  for (std::size_t i = 0; i < ref.size(); ++i) {
    if (std::memcmp(&ref[i], &w[i], sizeof(float)) != 0) {
      ++diff;
      max_diff = std::max(max_diff, std::abs(static_cast<double>(ref[i]) - static_cast<double>(w[i])));
    }
  }
  return {diff, max_diff};
}

void note_difference(ReplicaCheck& check, int rank, std::size_t diff, double max_diff) {
  if (diff == 0 || !check.identical) return;
  check.identical = false;
  check.first_bad_rank = rank;
  check.differing_elements = diff;
  check.max_abs_diff = max_diff;
}

}  // namespace

ReplicaCheck Trainer::check_replicas() {
  if (world_) return check_replicas_in_world();
  ReplicaCheck check;
  const std::vector<float> ref = master_weights(0);
  for (int r = 1; r < ranks(); ++r) {
    const auto [diff, max_diff] = compare_weights(ref, master_weights(r));
    note_difference(check, r, diff, max_diff);
  }
  return check;
}

// A process per rank: rank 0's weights travel to every rank, each compares its own, and every rank
// learns every rank's verdict (so all agree on the outcome).
ReplicaCheck Trainer::check_replicas_in_world() {
  const std::vector<float> mine = master_weights(rank_base_);
  std::string ref(reinterpret_cast<const char*>(mine.data()), mine.size() * sizeof(float));
  world_->broadcast(ref, 0);
  if (ref.size() != mine.size() * sizeof(float)) throw std::runtime_error("replica check: rank 0 holds another model");
  std::vector<float> ref_weights(mine.size());
  std::memcpy(ref_weights.data(), ref.data(), ref.size());
  const auto [diff, max_diff] = compare_weights(ref_weights, mine);
  const std::vector<double> diffs = world_->gather_doubles(static_cast<double>(diff));
  const std::vector<double> maxes = world_->gather_doubles(max_diff);
  ReplicaCheck check;
  for (std::size_t r = 1; r < diffs.size(); ++r) {
    note_difference(check, static_cast<int>(r), static_cast<std::size_t>(diffs[r]), maxes[r]);
  }
  return check;
}


double Trainer::evaluate(std::uint64_t first, int count) {
  Replica& r = *replicas_.front();
  const int batch = config_.local_batch;
  const auto rows = static_cast<std::size_t>(pass_->last_rows());
  std::vector<float> features;
  std::vector<std::int32_t> labels;
  double sum = 0;
  std::size_t n = 0;
  Stream* streams[] = {r.compute.get(), r.comm.get()};
  // Chunks of the per-rank batch; the last one is padded with the samples after the set and only
  // the set's rows are counted, so every point evaluates the same `count` samples.
  for (int done = 0; done < count; done += batch) {
    const int take = std::min(batch, count - done);
    const std::size_t use = std::max<std::size_t>(1, rows * static_cast<std::size_t>(take) / static_cast<std::size_t>(batch));
    data_.samples(first + static_cast<std::uint64_t>(done), batch, features, labels);
    cpu::cast(config_.precision, r.host_input.data(), DType::f32, features.data(), features.size());
    std::memcpy(r.host_labels.data(), labels.data(), labels.size() * sizeof(std::int32_t));
    r.compute->copy_from_host(r.input.data(), r.host_input.data(), r.input_bytes);
    r.compute->copy_from_host(r.labels.data(), r.host_labels.data(), r.label_bytes);
    pass_->forward(r, 0, 0.0f);
    r.compute->copy_to_host(r.host_loss.data(), r.row_loss.data(), rows * sizeof(float));
    watchdog_.wait(streams, "evaluating the held-out loss");
    for (std::size_t i = 0; i < use; ++i) sum += static_cast<double>(r.host_loss.as<float>()[i]);
    n += use;
  }
  return sum / static_cast<double>(n);
}

// The gradients are pre-scaled: grads = loss_scale * sum over the rank's samples / (global
// samples), so a rank's own mean gradient is grads * ranks / loss_scale and the all-reduced
// buffer is the global mean times loss_scale.
GradientProbe Trainer::read_probe() {
  GradientProbe p;
  const double inv_scale = 1.0 / static_cast<double>(scaler_.scale());
  const double n = ranks();
  double small = 0;
  for (auto& r : replicas_) small += sum_sq(config_.precision, r->host_probe.data(), plan_.total_elements);
  if (world_) {  // every rank's own norms, added in rank order
    const std::vector<double> parts = world_->gather_doubles(small);
    small = 0;
    for (double part : parts) small += part;
  }
  p.small_sq = small / n * n * n * inv_scale * inv_scale;
  p.big_sq = sum_sq(config_.precision, host_probe_big_.data(), plan_.total_elements) * inv_scale * inv_scale;
  p.b_small = static_cast<long long>(config_.local_batch) * config_.accum;
  p.b_big = samples_per_step();
  return p;
}

}  // namespace dpb
