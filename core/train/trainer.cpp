#include "train/trainer.h"

#include <chrono>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include "device/cpu_elementwise.h"
#include "device/error.h"
#include "train/phase_range.h"
#include "train/step_timing.h"

namespace dpb {

std::string ReplicaCheck::describe() const {
  if (identical) return "replicas identical";
  return "rank " + std::to_string(first_bad_rank) + " differs from rank 0 in " + std::to_string(differing_elements) +
         " weights (max |diff| " + std::to_string(max_abs_diff) + ")";
}

Trainer::Trainer(Backend& backend, Communicator& comm, TrainConfig config, Watchdog watchdog)
    : backend_(&backend),
      comm_(&comm),
      config_(std::move(config)),
      watchdog_(std::move(watchdog)),
      params_(config_.model.params()),
      data_(config_.seed, config_.model.input_dim(), config_.model.classes()),
      scaler_([&] {
        config_.scaler.enabled = config_.precision == DType::f16;
        config_.scaler.validate();
        return LossScaler(config_.scaler);
      }()) {
  if (config_.local_batch < 1) throw std::invalid_argument("--batch: must be at least 1");
  config_.optimizer.validate();
  plan_ = assign_buckets(params_, dtype_size(config_.precision), config_.bucket_bytes, config_.first_bucket_bytes);
  const auto& devices = comm.devices();
  if (devices.empty()) throw std::invalid_argument("trainer: communicator has no ranks");
  for (std::size_t r = 0; r < devices.size(); ++r) {
    replicas_.push_back(std::make_unique<Replica>(backend, static_cast<int>(r), devices[r], config_, plan_));
  }
  timeline_ = std::make_unique<Timeline>(backend, devices);
  ready_count_.resize(devices.size());
  if (config_.launch == Launch::thread_per_rank && devices.size() > 1) {
    threads_ = std::make_unique<RankThreads>(static_cast<int>(devices.size()));
  }

  // Every rank initialises its replica from the seed; the check below proves they agree.
  host_init_.resize(plan_.total_elements);
  init_master_weights(config_.model, plan_, config_.seed, host_init_);
  for (auto& r : replicas_) {
    r->compute->copy_from_host(r->master.data(), host_init_.data(), host_init_.size() * sizeof(float));
    if (r->weights) {
      r->compute->cast(config_.precision, r->weights.data(), DType::f32, r->master.data(), host_init_.size());
    }
  }
  wait_all("replica initialisation");
  host_init_ = std::vector<float>();  // release it: it is as large as the model
  const ReplicaCheck check = check_replicas();
  if (!check.identical) throw std::runtime_error("replicas are not identical at start: " + check.describe());
}

Trainer::~Trainer() {
  // Queued work references buffers and events owned here. Normally everything is complete; after
  // a failure mid-step it may not be (a half-enqueued all-reduce can wait forever), so wait a
  // bounded time and abort the communicator if it does not drain.
  std::vector<Stream*> all = compute_streams();
  for (Stream* s : comm_streams()) all.push_back(s);
  try {
    Watchdog drain(Watchdog::Clock::now() + std::chrono::seconds(10), [this] { comm_->abort(); });
    drain.wait(all, "draining the trainer's streams");
  } catch (...) {
    // The point already failed; its error is what gets reported.
  }
  replicas_.clear();  // streams (and their queues) go before the timeline's events
  timeline_.reset();
}

std::vector<Stream*> Trainer::compute_streams() const {
  std::vector<Stream*> s;
  for (const auto& r : replicas_) s.push_back(r->compute.get());
  return s;
}

std::vector<Stream*> Trainer::comm_streams() const {
  std::vector<Stream*> s;
  for (const auto& r : replicas_) s.push_back(r->comm.get());
  return s;
}

void Trainer::wait_all(const std::string& what) {
  std::vector<Stream*> all = compute_streams();
  for (Stream* s : comm_streams()) all.push_back(s);
  watchdog_.wait(all, what);
}

char* Trainer::param_ptr(void* base, int param) const {
  return static_cast<char*>(base) + plan_.param_offset[static_cast<std::size_t>(param)] * dtype_size(config_.precision);
}

void Trainer::upload_batch(Replica& r) {
  std::vector<float> features;
  std::vector<std::int32_t> labels;
  data_.shard(static_cast<std::uint64_t>(step_), r.rank, ranks(), config_.local_batch, features, labels);
  // Rounded on the host, as a data loader hands a model its inputs in the model's precision.
  cpu::cast(config_.precision, r.host_input.data(), DType::f32, features.data(), features.size());
  std::memcpy(r.host_labels.data(), labels.data(), labels.size() * sizeof(std::int32_t));
  r.compute->copy_from_host(r.input.data(), r.host_input.data(), r.host_input.bytes());
  r.compute->copy_from_host(r.labels.data(), r.host_labels.data(), r.host_labels.bytes());
}

void Trainer::forward(Replica& r, float grad_scale) {
  const DType t = config_.precision;
  const auto& w = config_.model.widths;
  const int batch = config_.local_batch;
  const void* x = r.input.data();
  for (int l = 0; l < config_.model.layers(); ++l) {
    const int in = w[static_cast<std::size_t>(l)];
    const int out = w[static_cast<std::size_t>(l) + 1];
    const bool last = l + 1 == config_.model.layers();
    void* z = r.z[static_cast<std::size_t>(l)].data();
    r.ops->gemm(t, GemmShape{false, true, batch, out, in, in, in, out}, x, param_ptr(r.weights_ptr(), 2 * l), z);
    void* a = last ? nullptr : r.a[static_cast<std::size_t>(l)].data();
    r.ops->bias_activation(t, config_.model.activation, z, param_ptr(r.weights_ptr(), 2 * l + 1), a, batch, out);
    x = a;
  }
  r.ops->softmax_xent(t, r.z.back().data(), r.labels.as<std::int32_t>(), batch, config_.model.classes(), grad_scale,
                      r.grad_ping.data(), r.row_loss.as<float>());
}

// Layer l's backward on one rank, in three parts so each parameter's gradient is ready (and its
// bucket can start) as early as DDP's autograd hooks would fire: bias, then weight, then dx.
void Trainer::backward_bias(Replica& r, int l, void* dz) {
  const DType t = config_.precision;
  const int batch = config_.local_batch;
  const int out = config_.model.widths[static_cast<std::size_t>(l) + 1];
  if (l + 1 != config_.model.layers()) {
    r.ops->activation_backward(t, config_.model.activation, dz, r.z[static_cast<std::size_t>(l)].data(),
                               static_cast<std::size_t>(batch) * static_cast<std::size_t>(out));
  }
  r.ops->bias_grad(t, dz, param_ptr(r.grads.data(), 2 * l + 1), batch, out);
}

void Trainer::backward_weight(Replica& r, int l, const void* dz) {
  const auto& w = config_.model.widths;
  const int in = w[static_cast<std::size_t>(l)];
  const int out = w[static_cast<std::size_t>(l) + 1];
  const void* x_prev = l > 0 ? r.a[static_cast<std::size_t>(l) - 1].data() : r.input.data();
  // dW[out, in] = dz^T [out, batch] * x_prev [batch, in]
  r.ops->gemm(config_.precision, GemmShape{true, false, out, in, config_.local_batch, out, in, in}, dz, x_prev,
              param_ptr(r.grads.data(), 2 * l));
}

void Trainer::backward_input(Replica& r, int l, void*& cur, void*& other) {
  const auto& w = config_.model.widths;
  const int in = w[static_cast<std::size_t>(l)];
  const int out = w[static_cast<std::size_t>(l) + 1];
  // dx[batch, in] = dz [batch, out] * W [out, in]
  r.ops->gemm(config_.precision, GemmShape{false, false, config_.local_batch, in, out, out, in, in}, cur,
              param_ptr(r.weights_ptr(), 2 * l), other);
  std::swap(cur, other);
}

int Trainer::param_ready(Replica& r, int param) {
  const int b = plan_.param_bucket[static_cast<std::size_t>(param)];
  const auto& bucket = plan_.buckets[static_cast<std::size_t>(b)];
  int& ready = ready_count_[static_cast<std::size_t>(r.rank)][static_cast<std::size_t>(b)];
  if (++ready != static_cast<int>(bucket.params.size())) return -1;
  r.compute->record(*r.bucket_ready[static_cast<std::size_t>(b)]);
  return b;
}

void Trainer::launch_bucket_rank(Replica& r, int b, bool wait_ready) {
  const auto& bucket = plan_.buckets[static_cast<std::size_t>(b)];
  const std::string name = bucket_span_name(b);
  if (wait_ready) r.comm->wait(*r.bucket_ready[static_cast<std::size_t>(b)]);
  Stream* streams[] = {r.comm.get()};
  PhaseRange range(streams, name);
  timeline_->begin(name, r.rank, *r.comm);
  void* p = static_cast<char*>(r.grads.data()) + bucket.offset * dtype_size(config_.precision);
  comm_->allreduce_rank(r.rank, config_.precision, p, p, bucket.elements, *r.comm);
  timeline_->end(name, r.rank, *r.comm);
}

void Trainer::launch_bucket_all(int b, bool wait_ready) {
  const auto& bucket = plan_.buckets[static_cast<std::size_t>(b)];
  const std::string name = bucket_span_name(b);
  if (wait_ready) {
    for (auto& r : replicas_) r->comm->wait(*r->bucket_ready[static_cast<std::size_t>(b)]);
  }
  const std::vector<Stream*> streams = comm_streams();
  PhaseRange range(streams, name);
  std::vector<const void*> send;
  std::vector<void*> recv;
  for (auto& r : replicas_) {
    timeline_->begin(name, r->rank, *r->comm);
    void* p = static_cast<char*>(r->grads.data()) + bucket.offset * dtype_size(config_.precision);
    send.push_back(p);
    recv.push_back(p);
  }
  comm_->allreduce(config_.precision, send, recv, bucket.elements, streams);
  for (auto& r : replicas_) timeline_->end(name, r->rank, *r->comm);
}

void Trainer::end_of_backward(Replica& r) {
  timeline_->end("backward", r.rank, *r.compute);
  r.compute->record(*r.backward_done);
  if (!config_.overlap) r.comm->wait(*r.backward_done);
}

// After the rank's all-reduces: the update, and the loss and overflow flag copied back.
void Trainer::after_comm(Replica& r) {
  r.comm->record(*r.comm_done);
  timeline_->begin("comm_wait", r.rank, *r.compute);
  r.compute->wait(*r.comm_done);
  timeline_->end("comm_wait", r.rank, *r.compute);
  {
    Stream* streams[] = {r.compute.get()};
    PhaseRange range(streams, "optimizer");
    timeline_->begin("optimizer", r.rank, *r.compute);
    optimizer(r);
    timeline_->end("optimizer", r.rank, *r.compute);
  }
  r.compute->copy_to_host(r.host_loss.data(), r.row_loss.data(), r.host_loss.bytes());
  r.compute->copy_to_host(r.host_skip_flag.data(), r.skip_flag.data(), sizeof(float));
}

void Trainer::optimizer(Replica& r) {
  const DType t = config_.precision;
  if (config_.scaler.enabled) {
    r.compute->fill(DType::f32, r.skip_flag.data(), 1, 0.0);
    r.ops->check_nonfinite(t, r.grads.data(), plan_.total_elements, r.skip_flag.as<float>());
  }
  OptimizerArgs args;
  args.type = t;
  args.count = plan_.total_elements;
  args.master = r.master.as<float>();
  args.weights = r.weights ? r.weights.data() : nullptr;
  args.grads = r.grads.data();
  args.state1 = r.state1.as<float>();
  args.state2 = r.state2 ? r.state2.as<float>() : nullptr;
  args.skip_flag = r.skip_flag.as<float>();
  args.hyper = optimizer_hyper(config_.optimizer, applied_steps_ + 1, 1.0f / scaler_.scale());
  r.ops->optimizer_step(args);
}

// One rank's whole step from its own thread, as a DDP process runs it.
void Trainer::step_rank(Replica& r, float grad_scale) {
  Stream* computes[] = {r.compute.get()};
  upload_batch(r);
  {
    PhaseRange range(computes, "forward");
    timeline_->begin("forward", r.rank, *r.compute);
    forward(r, grad_scale);
    timeline_->end("forward", r.rank, *r.compute);
  }
  {
    PhaseRange range(computes, "backward");
    timeline_->begin("backward", r.rank, *r.compute);
    void* cur = r.grad_ping.data();  // holds dlogits from softmax_xent
    void* other = r.grad_pong.data();
    for (int l = config_.model.layers() - 1; l >= 0; --l) {
      backward_bias(r, l, cur);
      if (const int b = param_ready(r, 2 * l + 1); b >= 0 && config_.overlap) launch_bucket_rank(r, b, true);
      backward_weight(r, l, cur);
      if (const int b = param_ready(r, 2 * l); b >= 0 && config_.overlap) launch_bucket_rank(r, b, true);
      if (l > 0) backward_input(r, l, cur, other);
    }
    end_of_backward(r);
  }
  if (!config_.overlap) {
    for (int b = 0; b < static_cast<int>(plan_.buckets.size()); ++b) launch_bucket_rank(r, b, false);
  }
  after_comm(r);
}

// Every rank's step from one thread, phase by phase across ranks (collectives need all ranks).
void Trainer::step_single_thread(float grad_scale) {
  const std::vector<Stream*> computes = compute_streams();
  for (auto& r : replicas_) upload_batch(*r);
  {
    PhaseRange range(computes, "forward");
    for (auto& r : replicas_) {
      timeline_->begin("forward", r->rank, *r->compute);
      forward(*r, grad_scale);
      timeline_->end("forward", r->rank, *r->compute);
    }
  }
  {
    PhaseRange range(computes, "backward");
    std::vector<void*> cur, other;
    for (auto& r : replicas_) {
      timeline_->begin("backward", r->rank, *r->compute);
      cur.push_back(r->grad_ping.data());
      other.push_back(r->grad_pong.data());
    }
    const auto ready_all = [&](int param) {
      int b = -1;
      for (auto& r : replicas_) b = param_ready(*r, param);
      if (b >= 0 && config_.overlap) launch_bucket_all(b, true);
    };
    for (int l = config_.model.layers() - 1; l >= 0; --l) {
      for (auto& r : replicas_) backward_bias(*r, l, cur[static_cast<std::size_t>(r->rank)]);
      ready_all(2 * l + 1);
      for (auto& r : replicas_) backward_weight(*r, l, cur[static_cast<std::size_t>(r->rank)]);
      ready_all(2 * l);
      if (l == 0) continue;
      for (auto& r : replicas_) {
        const auto k = static_cast<std::size_t>(r->rank);
        backward_input(*r, l, cur[k], other[k]);
      }
    }
    for (auto& r : replicas_) end_of_backward(*r);
  }
  if (!config_.overlap) {
    for (int b = 0; b < static_cast<int>(plan_.buckets.size()); ++b) launch_bucket_all(b, false);
  }
  for (auto& r : replicas_) after_comm(*r);
}

StepResult Trainer::step() {
  StepResult result;
  result.step = step_;
  result.loss_scale = scaler_.scale();
  const float grad_scale = scaler_.scale() / static_cast<float>(global_batch());

  // The common time origin is enqueued from this thread before any rank's thread starts (its
  // cross-stream wait binds to this step's record).
  timeline_->begin_iteration(compute_streams());
  for (auto& counts : ready_count_) counts.assign(plan_.buckets.size(), 0);
  const auto t0 = std::chrono::steady_clock::now();
  if (threads_) {
    threads_->run([&](int rank) { step_rank(*replicas_[static_cast<std::size_t>(rank)], grad_scale); },
                  [&] { comm_->abort(); });
  } else {
    step_single_thread(grad_scale);
  }
  result.host_enqueue_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  wait_all("training step " + std::to_string(step_));

  double loss_sum = 0;
  for (auto& r : replicas_) {
    const float* loss = r->host_loss.as<float>();
    for (int i = 0; i < config_.local_batch; ++i) loss_sum += static_cast<double>(loss[i]);
  }
  result.loss = loss_sum / static_cast<double>(global_batch());
  const bool overflow = *replicas_.front()->host_skip_flag.as<float>() != 0.0f;
  for (auto& r : replicas_) {
    if ((*r->host_skip_flag.as<float>() != 0.0f) != overflow) {
      throw std::runtime_error("ranks disagree on gradient overflow at step " + std::to_string(step_) +
                               ": the all-reduced gradients differ between replicas");
    }
  }
  result.skipped = scaler_.update(overflow);
  if (!result.skipped) ++applied_steps_;
  result.spans = timeline_->spans();
  ++step_;
  return result;
}

std::vector<float> Trainer::master_weights(int rank) {
  Replica& r = *replicas_.at(static_cast<std::size_t>(rank));
  const std::size_t bytes = plan_.total_elements * sizeof(float);
  if (host_readback_.bytes() != bytes) host_readback_ = backend_->allocate_pinned(bytes);
  r.compute->copy_to_host(host_readback_.data(), r.master.data(), bytes);
  Stream* streams[] = {r.compute.get(), r.comm.get()};
  watchdog_.wait(streams, "reading rank " + std::to_string(rank) + "'s weights");
  return gather_params(config_.model, plan_, std::span<const float>(host_readback_.as<float>(), plan_.total_elements));
}

ReplicaCheck Trainer::check_replicas() {
  ReplicaCheck check;
  const std::vector<float> ref = master_weights(0);
  for (int r = 1; r < ranks(); ++r) {
    const std::vector<float> w = master_weights(r);
    std::size_t diff = 0;
    double max_diff = 0;
    for (std::size_t i = 0; i < ref.size(); ++i) {
      if (std::memcmp(&ref[i], &w[i], sizeof(float)) != 0) {
        ++diff;
        max_diff = std::max(max_diff, std::abs(static_cast<double>(ref[i]) - static_cast<double>(w[i])));
      }
    }
    if (diff && check.identical) {
      check.identical = false;
      check.first_bad_rank = r;
      check.differing_elements = diff;
      check.max_abs_diff = max_diff;
    }
  }
  return check;
}

}  // namespace dpb
