#include "train/trainer.h"

#include <algorithm>
#include <chrono>
#include <functional>
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

Trainer::Trainer(Backend& backend, Communicator& comm, TrainConfig config, Watchdog watchdog, World* world)
    : backend_(&backend),
      comm_(&comm),
      world_(world),
      config_(std::move(config)),
      watchdog_(std::move(watchdog)),
      params_(config_.model.params()),
      data_(config_.seed, config_.model.input_dim(), config_.model.classes()),
      scaler_([&] {
        config_.scaler.enabled = config_.precision == DType::f16;
        config_.scaler.validate();
        return LossScaler(config_.scaler);
      }()) {
  if (config_.local_batch < 1) throw SettingError("local_batch", "must be at least 1");
  config_.optimizer.validate();
  if (config_.accum < 1) throw SettingError("accum", "must be at least 1");
  if (config_.comm_type() != config_.precision && config_.precision != DType::f32) {
    throw SettingError("comm_dtype", "compression applies to fp32 training; with {precision} " +
                                std::string(dtype_name(config_.precision)) + " the all-reduce is already " +
                                std::string(dtype_name(config_.precision)));
  }
  plan_ = assign_buckets(params_, dtype_size(config_.precision), config_.bucket_bytes, config_.first_bucket_bytes);
  pass_ = std::make_unique<LayerPass>(config_, plan_);
  const auto& devices = comm.devices();
  if (devices.empty()) throw std::invalid_argument("trainer: communicator has no ranks");
  // This process's ranks: all of them, or (a process per rank) the world's own.
  std::vector<int> local_devices = devices;
  if (world_) {
    if (static_cast<int>(devices.size()) != world_->size()) {
      throw std::invalid_argument("trainer: a communicator of " + std::to_string(devices.size()) +
                                  " ranks in a world of " + std::to_string(world_->size()) + " processes");
    }
    rank_base_ = world_->rank();
    local_devices = {devices[static_cast<std::size_t>(rank_base_)]};
  }
  for (std::size_t i = 0; i < local_devices.size(); ++i) {
    replicas_.push_back(
        std::make_unique<Replica>(backend, rank_base_ + static_cast<int>(i), local_devices[i], config_, plan_));
  }
  timeline_ = std::make_unique<Timeline>(backend, local_devices);
  ready_count_.resize(local_devices.size());
  if (config_.launch == Launch::thread_per_rank && local_devices.size() > 1) {
    threads_ = std::make_unique<RankThreads>(static_cast<int>(local_devices.size()));
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

void Trainer::upload_batch(Replica& r, int micro) {
  std::vector<float> features;
  std::vector<std::int32_t> labels;
  const auto index = static_cast<std::uint64_t>(step_) * static_cast<std::uint64_t>(config_.accum) +
                     static_cast<std::uint64_t>(micro);
  data_.shard(index, r.rank, ranks(), config_.local_batch, features, labels);
  // Rounded on the host, as a data loader hands a model its inputs in the model's precision. Each
  // micro-batch has its own staging (the copies run later, in stream order).
  const auto m = static_cast<std::size_t>(micro);
  char* host_in = static_cast<char*>(r.host_input.data()) + m * r.input_bytes;
  char* host_lab = static_cast<char*>(r.host_labels.data()) + m * r.label_bytes;
  cpu::cast(config_.precision, host_in, DType::f32, features.data(), features.size());
  std::memcpy(host_lab, labels.data(), labels.size() * sizeof(std::int32_t));
  r.compute->copy_from_host(r.input.data(), host_in, r.input_bytes);
  r.compute->copy_from_host(static_cast<char*>(r.labels.data()) + m * r.label_bytes, host_lab, r.label_bytes);
}

void Trainer::backward_no_sync(Replica& r, int micro) {
  void* cur = r.grad_ping.data();
  void* other = r.grad_pong.data();
  for (int l = config_.model.layers() - 1; l >= 0; --l) pass_->backward(r, l, r.grads.data(), cur, other, [](int) {});
  const DType t = config_.precision;
  if (micro == 0) {
    r.compute->copy(r.accum_grads.data(), r.grads.data(), plan_.total_elements * dtype_size(t));
  } else {
    r.compute->reduce_add(t, r.accum_grads.data(), r.grads.data(), plan_.total_elements);
  }
}

int Trainer::param_ready(Replica& r, int param, bool probe) {
  const int b = plan_.param_bucket[static_cast<std::size_t>(param)];
  const auto& bucket = plan_.buckets[static_cast<std::size_t>(b)];
  int& ready = ready_count_[static_cast<std::size_t>(lane(r))][static_cast<std::size_t>(b)];
  if (++ready != static_cast<int>(bucket.params.size())) return -1;
  const std::size_t es = dtype_size(config_.precision);
  const std::size_t off = bucket.offset * es;
  if (r.accum_grads) {
    r.compute->reduce_add(config_.precision, static_cast<char*>(r.grads.data()) + off,
                          static_cast<const char*>(r.accum_grads.data()) + off, bucket.elements);
  }
  if (probe) {
    r.compute->copy_to_host(static_cast<char*>(r.host_probe.data()) + off, static_cast<const char*>(r.grads.data()) + off,
                            bucket.elements * es);
  }
  r.compute->record(*r.bucket_ready[static_cast<std::size_t>(b)]);
  return b;
}

namespace {
// One rank's part of a bucket's all-reduce, through the comm dtype when it differs (DDP's
// compression hook: cast, all-reduce, cast back, all on the comm stream).
struct BucketComm {
  DType grad_type, comm_type;
  void* grad;
  void* comm;
};
BucketComm bucket_comm(Replica& r, const Bucket& bucket, DType precision, DType comm_type) {
  void* g = static_cast<char*>(r.grads.data()) + bucket.offset * dtype_size(precision);
  if (comm_type == precision) return {precision, comm_type, g, g};
  void* c = static_cast<char*>(r.comm_grads.data()) + bucket.offset * dtype_size(comm_type);
  r.comm->cast(comm_type, c, precision, g, bucket.elements);
  return {precision, comm_type, g, c};
}
void bucket_comm_done(Replica& r, const BucketComm& c, std::size_t elements) {
  if (c.comm != c.grad) r.comm->cast(c.grad_type, c.grad, c.comm_type, c.comm, elements);
}
}  // namespace

void Trainer::launch_bucket_rank(Replica& r, int b, bool wait_ready) {
  const auto& bucket = plan_.buckets[static_cast<std::size_t>(b)];
  const std::string name = bucket_span_name(b);
  if (wait_ready) r.comm->wait(*r.bucket_ready[static_cast<std::size_t>(b)]);
  Stream* streams[] = {r.comm.get()};
  PhaseRange range(streams, name);
  timeline_->begin(name, lane(r), *r.comm);
  const BucketComm c = bucket_comm(r, bucket, config_.precision, config_.comm_type());
  comm_->allreduce_rank(r.rank, config_.comm_type(), c.comm, c.comm, bucket.elements, *r.comm);
  bucket_comm_done(r, c, bucket.elements);
  timeline_->end(name, lane(r), *r.comm);
  if (lane(r) == 0) ++allreduce_calls_;
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
  std::vector<BucketComm> comms;
  for (auto& r : replicas_) {
    timeline_->begin(name, lane(*r), *r->comm);
    comms.push_back(bucket_comm(*r, bucket, config_.precision, config_.comm_type()));
    send.push_back(comms.back().comm);
    recv.push_back(comms.back().comm);
  }
  comm_->allreduce(config_.comm_type(), send, recv, bucket.elements, streams);
  for (auto& r : replicas_) {
    bucket_comm_done(*r, comms[static_cast<std::size_t>(lane(*r))], bucket.elements);
    timeline_->end(name, lane(*r), *r->comm);
  }
  ++allreduce_calls_;
}

void Trainer::end_of_backward(Replica& r) {
  timeline_->end("backward", lane(r), *r.compute);
  r.compute->record(*r.backward_done);
  if (!config_.overlap) r.comm->wait(*r.backward_done);
}

// After the rank's all-reduces: the update, and the losses and overflow flag copied back.
void Trainer::after_comm(Replica& r, bool probe) {
  r.comm->record(*r.comm_done);
  timeline_->begin("comm_wait", lane(r), *r.compute);
  r.compute->wait(*r.comm_done);
  timeline_->end("comm_wait", lane(r), *r.compute);
  if (probe && lane(r) == 0) {
    r.compute->copy_to_host(host_probe_big_.data(), r.grads.data(), host_probe_big_.bytes());
  }
  {
    Stream* streams[] = {r.compute.get()};
    PhaseRange range(streams, "optimizer");
    timeline_->begin("optimizer", lane(r), *r.compute);
    optimizer(r);
    timeline_->end("optimizer", lane(r), *r.compute);
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
  OptimizerConfig opt = config_.optimizer;
  opt.lr = step_lr_;
  args.hyper = optimizer_hyper(opt, applied_steps_ + 1, 1.0f / scaler_.scale());
  r.ops->optimizer_step(args);
}

// One rank's whole step from its own thread, as a DDP process runs it. With accumulation, the
// "forward" span covers every micro-batch up to the last one's forward (the no_sync backwards
// included) and "backward" is the last micro-batch's, the one whose buckets are all-reduced.
void Trainer::step_rank(Replica& r, float grad_scale, bool probe) {
  Stream* computes[] = {r.compute.get()};
  {
    PhaseRange range(computes, "forward");
    timeline_->begin("forward", lane(r), *r.compute);
    for (int m = 0; m < config_.accum; ++m) {
      upload_batch(r, m);
      pass_->forward(r, m, grad_scale);
      if (m + 1 < config_.accum) backward_no_sync(r, m);
    }
    timeline_->end("forward", lane(r), *r.compute);
  }
  {
    PhaseRange range(computes, "backward");
    timeline_->begin("backward", lane(r), *r.compute);
    void* cur = r.grad_ping.data();  // holds dlogits from softmax_xent
    void* other = r.grad_pong.data();
    const auto ready = [&](int param) {
      if (const int b = param_ready(r, param, probe); b >= 0 && config_.overlap) launch_bucket_rank(r, b, true);
    };
    for (int l = config_.model.layers() - 1; l >= 0; --l) pass_->backward(r, l, r.grads.data(), cur, other, ready);
    end_of_backward(r);
  }
  if (!config_.overlap) {
    for (int b = 0; b < static_cast<int>(plan_.buckets.size()); ++b) launch_bucket_rank(r, b, false);
  }
  after_comm(r, probe);
}

// Every rank's step from one thread, phase by phase across ranks (collectives need all ranks):
// layer by layer, then the buckets that layer completed.
void Trainer::step_single_thread(float grad_scale, bool probe) {
  const std::vector<Stream*> computes = compute_streams();
  {
    PhaseRange range(computes, "forward");
    for (auto& r : replicas_) timeline_->begin("forward", lane(*r), *r->compute);
    for (int m = 0; m < config_.accum; ++m) {
      for (auto& r : replicas_) {
        upload_batch(*r, m);
        pass_->forward(*r, m, grad_scale);
        if (m + 1 < config_.accum) backward_no_sync(*r, m);
      }
    }
    for (auto& r : replicas_) timeline_->end("forward", lane(*r), *r->compute);
  }
  {
    PhaseRange range(computes, "backward");
    std::vector<void*> cur, other;
    for (auto& r : replicas_) {
      timeline_->begin("backward", lane(*r), *r->compute);
      cur.push_back(r->grad_ping.data());
      other.push_back(r->grad_pong.data());
    }
    for (int l = config_.model.layers() - 1; l >= 0; --l) {
      std::vector<int> completed;
      for (auto& r : replicas_) {
        const auto k = static_cast<std::size_t>(lane(*r));
        completed.clear();
        pass_->backward(*r, l, r->grads.data(), cur[k], other[k], [&](int param) {
          if (const int b = param_ready(*r, param, probe); b >= 0) completed.push_back(b);
        });
      }
      if (config_.overlap) {
        for (int b : completed) launch_bucket_all(b, true);  // every rank completed the same buckets
      }
    }
    for (auto& r : replicas_) end_of_backward(*r);
  }
  if (!config_.overlap) {
    for (int b = 0; b < static_cast<int>(plan_.buckets.size()); ++b) launch_bucket_all(b, false);
  }
  for (auto& r : replicas_) after_comm(*r, probe);
}

double Trainer::local_loss_sum() const {
  double sum = 0;
  const auto last_rows = static_cast<std::size_t>(pass_->last_rows());
  const auto batch = static_cast<std::size_t>(config_.local_batch);
  for (const auto& r : replicas_) {
    const float* loss = r->host_loss.as<float>();
    for (std::size_t m = 0; m < static_cast<std::size_t>(config_.accum); ++m) {
      for (std::size_t i = 0; i < last_rows; ++i) sum += static_cast<double>(loss[m * batch + i]);
    }
  }
  return sum;
}

bool Trainer::ranks_agree_on_overflow() {
  std::vector<int> flags;
  for (const auto& r : replicas_) flags.push_back(*r->host_skip_flag.as<float>() != 0.0f ? 1 : 0);
  if (world_) flags = world_->gather_ints(flags.front());
  if (std::adjacent_find(flags.begin(), flags.end(), std::not_equal_to<>()) != flags.end()) {
    throw std::runtime_error("ranks disagree on gradient overflow at step " + std::to_string(step_) +
                             ": the all-reduced gradients differ between replicas");
  }
  return flags.front() != 0;
}

StepResult Trainer::step(bool probe) {
  probe = probe && ranks() > 1;
  StepResult result;
  result.step = step_;
  result.loss_scale = scaler_.scale();
  const double rows = static_cast<double>(pass_->last_rows()) * ranks() * config_.accum;
  const float grad_scale = static_cast<float>(scaler_.scale() / rows);
  step_lr_ = config_.optimizer.lr * config_.lr_schedule.factor(applied_steps_ + 1, samples_per_step());
  result.lr = step_lr_;
  if (probe) {
    const std::size_t bytes = plan_.total_elements * dtype_size(config_.precision);
    if (host_probe_big_.bytes() != bytes) host_probe_big_ = backend_->allocate_pinned(bytes);
    for (auto& r : replicas_) {
      if (r->host_probe.bytes() != bytes) r->host_probe = backend_->allocate_pinned(bytes);
    }
  }

  // The common time origin is enqueued from this thread before any rank's thread starts (its
  // cross-stream wait binds to this step's record).
  timeline_->begin_iteration(compute_streams());
  for (auto& counts : ready_count_) counts.assign(plan_.buckets.size(), 0);
  const auto t0 = std::chrono::steady_clock::now();
  if (threads_) {
    threads_->run([&](int lane) { step_rank(*replicas_[static_cast<std::size_t>(lane)], grad_scale, probe); },
                  [&] { comm_->abort(); });
  } else if (world_) {
    step_rank(*replicas_.front(), grad_scale, probe);  // this process's one rank, as a DDP process
  } else {
    step_single_thread(grad_scale, probe);
  }
  result.host_enqueue_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  wait_all("training step " + std::to_string(step_));
  if (world_) result.host_enqueue_ms = world_->all_reduce_max(result.host_enqueue_ms);

  double loss_sum = local_loss_sum();
  if (world_) {  // every rank's partial sum, added in rank order on every rank
    const std::vector<double> parts = world_->gather_doubles(loss_sum);
    loss_sum = 0;
    for (double part : parts) loss_sum += part;
  }
  result.loss = loss_sum / rows;
  const bool overflow = ranks_agree_on_overflow();
  if (probe && !overflow) result.probe = read_probe();
  result.skipped = scaler_.update(overflow);
  if (!result.skipped) ++applied_steps_;
  result.spans = timeline_->spans();
  for (auto& span : result.spans) span.rank += rank_base_;  // lanes to ranks
  ++step_;
  return result;
}

}  // namespace dpb
