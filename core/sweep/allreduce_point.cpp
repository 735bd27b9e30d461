#include "sweep/allreduce_point.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <future>
#include <stdexcept>
#include <thread>

#include "device/error.h"
#include "device/stream_gate.h"
#include "graph/graph_capture.h"
#include "sweep/allreduce_record.h"
#include "train/watchdog.h"

namespace dpb {

struct AllreduceBench::Ranks {
  std::vector<int> devices;
  std::vector<std::unique_ptr<Stream>> streams;
  std::vector<Stream*> stream_ptrs;
  std::vector<DeviceBuffer> send, recv;
  std::unique_ptr<Event> start, end;
  std::unique_ptr<SignalSet> sync;       // slot 0: start; slot r >= 1: rank r done
  std::uint64_t calls = 0;               // timed-call sequence: the sync signals' values
  std::unique_ptr<RankThreads> threads;  // thread per rank (null for one rank or single-thread)
  std::unique_ptr<StreamGate> gate;      // null where the backend has none
  std::vector<std::vector<std::byte>> host;  // staging per check worker, sized once for max_bytes

  void synchronize() {
    for (auto& s : streams) s->synchronize();
  }
};

struct AllreduceBench::Inputs {
  DType dtype;
  int ranks;
  std::size_t count;
  std::vector<std::vector<std::byte>> host;  // per rank, in the dtype's storage format
  std::optional<AllreduceReference> reference;
};

AllreduceBench::AllreduceBench(Backend& backend, AllreduceConfig config, std::size_t communicators)
    : backend_(backend), config_(std::move(config)), comms_(backend, communicators) {
  config_.stopping.validate();
}

AllreduceBench::~AllreduceBench() {
  // Nothing may be in flight on buffers or communicators when they are freed.
  if (ranks_) {
    try {
      ranks_->synchronize();
    } catch (...) {
    }
  }
}

std::size_t AllreduceBench::communicators_created() const { return comms_.created(); }

AllreduceBench::Ranks& AllreduceBench::ranks_for(const std::vector<int>& devices) {
  if (ranks_ && ranks_->devices == devices) return *ranks_;
  if (ranks_) ranks_->synchronize();
  ranks_.reset();  // free the previous device list's buffers before allocating new ones
  auto r = std::make_unique<Ranks>();
  r->devices = devices;
  const std::size_t bytes = std::max<std::size_t>(config_.max_bytes, 16);
  for (int d : devices) {
    r->streams.push_back(backend_.make_stream(d));
    r->stream_ptrs.push_back(r->streams.back().get());
    r->send.push_back(backend_.allocate(d, bytes));
    r->recv.push_back(backend_.allocate(d, bytes));
  }
  r->sync = backend_.make_signals(devices.size());
  if (config_.launch == Launch::thread_per_rank && devices.size() > 1) {
    r->threads = std::make_unique<RankThreads>(static_cast<int>(devices.size()));
  }
  r->start = backend_.make_event(devices[0], true);
  r->end = backend_.make_event(devices[0], true);
  if (config_.gate) {
    try {
      r->gate = backend_.make_stream_gate();
    } catch (const std::invalid_argument&) {
      r->gate.reset();  // no gate for this backend: timed calls include the host's enqueue time
    }
  }
  ranks_ = std::move(r);
  return *ranks_;
}

const AllreduceBench::Inputs& AllreduceBench::inputs_for(DType dtype, int ranks, std::size_t count) {
  if (inputs_ && inputs_->dtype == dtype && inputs_->ranks == ranks && inputs_->count == count) return *inputs_;
  inputs_.reset();
  auto in = std::make_unique<Inputs>();
  in->dtype = dtype;
  in->ranks = ranks;
  in->count = count;
  for (int r = 0; r < ranks; ++r) {
    in->host.emplace_back(count * dtype_size(dtype));
    fill_allreduce_input(dtype, config_.pattern, r, ranks, in->host.back());
  }
  if (config_.check) in->reference.emplace(dtype, config_.pattern, ranks, 0, count);
  inputs_ = std::move(in);
  return *inputs_;
}

namespace {

// Releases a held gate if the enqueueing in between throws, so the stream is not left waiting.
class GateHold {
 public:
  GateHold(StreamGate* gate, Stream& stream) : gate_(gate) {
    if (gate_) gate_->hold(stream);
  }
  ~GateHold() { release(); }
  GateHold(const GateHold&) = delete;
  GateHold& operator=(const GateHold&) = delete;
  void release() {
    if (gate_) gate_->release();
    gate_ = nullptr;
  }

 private:
  StreamGate* gate_;
};

}  // namespace

// One point's measurement (the header's steps 1-3): returns samples and check results only; the
// record is built from them by allreduce_record (allreduce_record.h).
class AllreduceBench::PointRun {
 public:
  PointRun(AllreduceBench& bench, const AllreducePointSpec& spec, std::optional<Watchdog::Clock::time_point> deadline);
  // 1. inputs, 2. the checked call (and with --graph the capture, checked too), 3. the timed calls.
  AllreduceSamples run();
  // How the calls ran (after run()).
  AllreduceCallSetup setup() const;

 private:
  double timed_part(int i, std::uint64_t it, const std::function<void()>& collective);
  double enqueue_call(std::uint64_t it);
  void wait_for_call();
  double call(bool gated);
  void load_inputs();
  AllreduceCheck check_outputs();
  void capture(std::optional<AllreduceCheck>& check);

  AllreduceBench& bench_;
  const AllreducePointSpec& spec_;
  const AllreduceConfig& config_;
  const int n_;
  const std::size_t bytes_;
  Communicator& comm_;
  Ranks& r_;
  const Inputs& in_;
  Watchdog watchdog_;
  std::vector<const void*> send_;
  std::vector<void*> recv_;
  // With --graph N, spec.graph calls are captured once (after the checked call, so communicators
  // are initialised, as nccl-tests requires) and each timed sample is one graph launch / N.
  std::unique_ptr<CapturedWork> graph_;
  const bool per_rank_;
  // What the gated stream (rank 0's) receives while held: the hold, the start, one call, the waits
  // for the other ranks and the end. The gate is used only where that fits under the queue depth.
  const CallPlan plan_;
  const std::size_t gated_ops_;
  const bool gate_fits_;
  std::vector<double> host_samples_;
};

AllreduceBench::PointRun::PointRun(AllreduceBench& bench, const AllreducePointSpec& spec,
                                   std::optional<Watchdog::Clock::time_point> deadline)
    : bench_(bench),
      spec_(spec),
      config_(bench.config_),
      n_(spec.ranks()),
      bytes_(spec.bytes()),
      comm_(config_.communicator_for ? config_.communicator_for(spec)
                                     : bench.comms_.get(spec.algo, spec.devices, config_.communicator)),
      r_(bench.ranks_for(spec.devices)),
      in_(bench.inputs_for(spec.dtype, n_, spec.count)),
      watchdog_(deadline,
                [&comm = comm_, &bench] {
                  comm.abort();
                  if (bench.ranks_) bench.ranks_->sync->release_all();  // the timing waits must let streams drain
                }),
      send_(static_cast<std::size_t>(n_)),
      recv_(static_cast<std::size_t>(n_)),
      per_rank_(r_.threads && spec.graph == 0),
      plan_(plan_allreduce_call(spec.algo, n_, spec.dtype, spec.count, spec.in_place, config_.communicator)),
      gated_ops_((spec.graph > 0 ? 1 : plan_.ops_per_stream) + static_cast<std::size_t>(n_) + 3),
      gate_fits_(gated_ops_ < bench.backend_.stream_queue_depth()) {
  for (std::size_t i = 0; i < send_.size(); ++i) {
    send_[i] = r_.send[i].data();
    recv_[i] = spec.in_place ? r_.send[i].data() : r_.recv[i].data();
  }
}

// Rank i's part of one timed call (see header): the common start, the collective, the end.
// Returns the host time the collective's enqueueing took (us).
double AllreduceBench::PointRun::timed_part(int i, std::uint64_t it, const std::function<void()>& collective) {
  Stream& s = *r_.streams[static_cast<std::size_t>(i)];
  if (i == 0) {
    s.record(*r_.start);
    s.write_signal(*r_.sync, 0, it);
  } else {
    s.wait_signal(*r_.sync, 0, it);
  }
  const auto t0 = std::chrono::steady_clock::now();
  collective();
  const double host_us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
  if (i == 0) {
    for (int j = 1; j < n_; ++j) s.wait_signal(*r_.sync, static_cast<std::size_t>(j), it);
    s.record(*r_.end);
  } else {
    s.write_signal(*r_.sync, static_cast<std::size_t>(i), it);
  }
  return host_us;
}

// Enqueues call `it` on every rank; returns the longest any rank's thread spent enqueueing it (us).
double AllreduceBench::PointRun::enqueue_call(std::uint64_t it) {
  if (per_rank_) {
    std::vector<double> host(static_cast<std::size_t>(n_), 0.0);
    r_.threads->run(
        [&](int i) {
          const auto u = static_cast<std::size_t>(i);
          host[u] = timed_part(i, it, [&] {
            comm_.allreduce_rank(i, spec_.dtype, send_[u], recv_[u], spec_.count, *r_.streams[u]);
          });
        },
        [&] { comm_.abort(); });
    return *std::max_element(host.begin(), host.end());
  }
  // One thread: rank 0 starts, every rank's collective is enqueued at once, the rest end. Each wait
  // is enqueued after the write it needs (the order CUDA's scheduler can see).
  return timed_part(0, it, [&] {
    for (int i = 1; i < n_; ++i) r_.streams[static_cast<std::size_t>(i)]->wait_signal(*r_.sync, 0, it);
    if (graph_) {
      graph_->launch();
    } else {
      comm_.allreduce(spec_.dtype, send_, recv_, spec_.count, r_.stream_ptrs);
    }
    for (int i = 1; i < n_; ++i) {
      r_.streams[static_cast<std::size_t>(i)]->write_signal(*r_.sync, static_cast<std::size_t>(i), it);
    }
  });
}

void AllreduceBench::PointRun::wait_for_call() {
  if (!watchdog_.deadline()) {
    r_.synchronize();  // also rethrows the first error of any rank's enqueued work
    return;
  }
  watchdog_.wait(r_.stream_ptrs, "the all-reduce call");  // aborts the communicator at the deadline
  if (watchdog_.expired()) {
    char limit[32];
    std::snprintf(limit, sizeof limit, "%g", *config_.timeout_s);
    throw TimeoutError("the point took longer than its time limit of " + std::string(limit) + " s");
  }
}

// One call (or one graph launch), timed on rank 0's clock from a common start to the last rank's
// end (see header); returns microseconds per call. Timed (gated) calls add their host time.
double AllreduceBench::PointRun::call(bool gated) {
  const bool gate_now = gated && r_.gate && gate_fits_;
  const std::uint32_t timeouts_before = gate_now ? r_.gate->timeouts() : 0;
  const std::uint64_t it = ++r_.calls;
  double host_us = 0;
  {
    GateHold hold(gate_now ? r_.gate.get() : nullptr, *r_.streams[0]);
    host_us = enqueue_call(it);
  }
  wait_for_call();
  if (graph_) comm_.rewind();
  if (gate_now && r_.gate->timeouts() != timeouts_before) {
    throw std::runtime_error("the stream gate timed out while the host enqueued the call; the timing is invalid");
  }
  const int per_launch = graph_ ? spec_.graph : 1;
  if (gated) host_samples_.push_back(host_us / per_launch);
  return r_.end->elapsed_ms_since(*r_.start) * 1000.0 / per_launch;
}

// The inputs, and out of place a sentinel in the receive buffers.
void AllreduceBench::PointRun::load_inputs() {
  for (int i = 0; i < n_; ++i) {
    r_.streams[i]->copy_from_host(r_.send[i].data(), in_.host[i].data(), bytes_);
    if (!spec_.in_place) r_.streams[i]->fill(spec_.dtype, r_.recv[i].data(), spec_.count, -1.0);
  }
  r_.synchronize();
}

// Every rank's output against the host reference, and out of place its send buffer against its
// input. Checking is host work as large as the collective itself, so the ranks are spread over the
// host's cores (each worker copies its ranks' outputs through its own staging buffer; the streams
// are distinct, so the workers never share one).
AllreduceCheck AllreduceBench::PointRun::check_outputs() {
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  const auto workers = static_cast<int>(std::min<unsigned>(cores, static_cast<unsigned>(n_)));
  if (r_.host.size() < static_cast<std::size_t>(workers)) r_.host.resize(static_cast<std::size_t>(workers));
  std::vector<CheckResult> partial(static_cast<std::size_t>(workers));
  std::vector<char> modified(static_cast<std::size_t>(workers), 0);
  auto check_ranks = [&](int w) {
    std::vector<std::byte>& staging = r_.host[static_cast<std::size_t>(w)];
    if (staging.size() < bytes_) staging.resize(config_.max_bytes);
    const std::span<std::byte> host(staging.data(), bytes_);
    for (int i = w; i < n_; i += workers) {
      r_.streams[i]->copy_to_host(host.data(), recv_[i], bytes_);
      r_.streams[i]->synchronize();
      partial[w].merge(in_.reference->check(host));
      if (!spec_.in_place) {
        r_.streams[i]->copy_to_host(host.data(), r_.send[i].data(), bytes_);
        r_.streams[i]->synchronize();
        if (bytes_ > 0 && std::memcmp(host.data(), in_.host[i].data(), bytes_) != 0) modified[w] = 1;
      }
    }
  };
  std::vector<std::future<void>> running;
  for (int w = 1; w < workers; ++w) running.push_back(std::async(std::launch::async, check_ranks, w));
  std::exception_ptr error;
  try {
    check_ranks(0);
  } catch (...) {
    error = std::current_exception();
  }
  for (auto& f : running) {
    try {
      f.get();
    } catch (...) {
      if (!error) error = std::current_exception();
    }
  }
  if (error) std::rethrow_exception(error);
  AllreduceCheck check;
  for (int w = 0; w < workers; ++w) {
    check.result.merge(partial[w]);
    check.send_modified = check.send_modified || modified[w];
  }
  return check;
}

// Captures spec.graph calls into a graph; out of place (with a check) the graph's result is checked.
void AllreduceBench::PointRun::capture(std::optional<AllreduceCheck>& check) {
  // The captured calls' signal waits name fixed values (call * R + g), so every replay must start
  // from the state the capture started from: rewind before capturing and after every replay.
  r_.synchronize();
  comm_.rewind();
  graph_ = capture_graph(bench_.backend_, r_.stream_ptrs, [&] {
    for (int i = 0; i < spec_.graph; ++i) comm_.allreduce(spec_.dtype, send_, recv_, spec_.count, r_.stream_ptrs);
  }, config_.graph_capture.value_or(spec_.algo.transport == Transport::nccl ? GraphCapture::per_stream
                                                                              : GraphCapture::fork_join));
  // Out of place every replayed call computes the same sum, so the graph's own result is checked
  // too (in place N calls compound, so only the plain call before is checked).
  if (spec_.in_place || !check) return;
  for (int i = 0; i < n_; ++i) r_.streams[i]->fill(spec_.dtype, recv_[i], spec_.count, -1.0);
  call(false);
  const std::span<std::byte> host(r_.host[0].data(), bytes_);
  for (int i = 0; i < n_; ++i) {
    r_.streams[i]->copy_to_host(host.data(), recv_[i], bytes_);
    r_.streams[i]->synchronize();
    check->result.merge(in_.reference->check(host));
  }
}

AllreduceSamples AllreduceBench::PointRun::run() {
  AllreduceSamples samples;
  load_inputs();
  call(false);
  if (config_.check) samples.check = check_outputs();
  if (spec_.graph > 0) capture(samples.check);
  samples.timing = measure(config_.stopping, [&](const IterationInfo& it) { return call(!it.warmup); });
  samples.host_us = std::move(host_samples_);
  return samples;
}

AllreduceCallSetup AllreduceBench::PointRun::setup() const {
  AllreduceCallSetup s;
  s.plan = plan_;
  s.launch = per_rank_ || n_ == 1 ? config_.launch : Launch::single_thread;
  s.gated = r_.gate != nullptr && gate_fits_;
  if (r_.gate != nullptr && !gate_fits_) s.gate_skipped = {gated_ops_, bench_.backend_.stream_queue_depth()};
  if (graph_) s.graph = {spec_.graph, graph_->strategy(), graph_->nodes(), graph_->graphs()};
  return s;
}

PointRecord AllreduceBench::run(const AllreducePointSpec& spec) {
  if (spec.devices.empty()) throw std::invalid_argument("allreduce: no ranks");
  if (spec.bytes() > config_.max_bytes) {
    throw std::invalid_argument("allreduce: " + std::to_string(spec.bytes()) + " bytes exceed the buffers (" +
                                std::to_string(config_.max_bytes) + ")");
  }
  if (spec.graph > 0) {
    if (auto why = graph_capture_unsupported(backend_)) throw SettingError("graph", *why);
  }
  std::optional<Watchdog::Clock::time_point> deadline;
  if (config_.timeout_s) {
    deadline = Watchdog::Clock::now() + std::chrono::duration_cast<Watchdog::Clock::duration>(
                                            std::chrono::duration<double>(*config_.timeout_s));
  }
  PointRun point(*this, spec, deadline);
  const AllreduceSamples samples = point.run();
  return allreduce_record(spec, config_, samples, point.setup());
}

}  // namespace dpb
