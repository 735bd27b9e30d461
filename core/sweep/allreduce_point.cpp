#include "sweep/allreduce_point.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <future>
#include <thread>
#include <stdexcept>

#include "collectives/algorithm_rules.h"
#include "device/error.h"
#include "graph/graph_capture.h"
#include "device/stream_gate.h"
#include "sweep/allreduce_metrics.h"
#include "sweep/sizes.h"
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

PointRecord AllreduceBench::run(const AllreducePointSpec& spec) {
  if (spec.devices.empty()) throw std::invalid_argument("allreduce: no ranks");
  if (spec.bytes() > config_.max_bytes) {
    throw std::invalid_argument("allreduce: " + std::to_string(spec.bytes()) + " bytes exceed the buffers (" +
                                std::to_string(config_.max_bytes) + ")");
  }
  if (spec.graph > 0) {
    if (auto why = graph_capture_unsupported(backend_)) throw std::invalid_argument("--graph: " + *why);
  }
  const int n = spec.ranks();
  std::optional<Watchdog::Clock::time_point> deadline;
  if (config_.timeout_s) {
    deadline = Watchdog::Clock::now() + std::chrono::duration_cast<Watchdog::Clock::duration>(
                                            std::chrono::duration<double>(*config_.timeout_s));
  }
  Communicator& comm = config_.communicator_for ? config_.communicator_for(spec)
                                                : comms_.get(spec.algo, spec.devices, config_.communicator);
  Ranks& r = ranks_for(spec.devices);
  const Inputs& in = inputs_for(spec.dtype, n, spec.count);
  const std::size_t bytes = spec.bytes();

  Watchdog watchdog(deadline, [&comm, this] {
    comm.abort();
    if (ranks_) ranks_->sync->release_all();  // the timing waits, too, must let the streams drain
  });
  std::vector<const void*> send(static_cast<std::size_t>(n));
  std::vector<void*> recv(static_cast<std::size_t>(n));
  for (std::size_t i = 0; i < send.size(); ++i) {
    send[i] = r.send[i].data();
    recv[i] = spec.in_place ? r.send[i].data() : r.recv[i].data();
  }

  // With --graph N, spec.graph calls are captured once (after the checked call, so communicators
  // are initialised, as nccl-tests requires) and each timed sample is one graph launch / N.
  std::unique_ptr<CapturedWork> graph;
  auto enqueue_calls = [&] {
    if (graph) {
      graph->launch();
    } else {
      comm.allreduce(spec.dtype, send, recv, spec.count, r.stream_ptrs);
    }
  };

  // Rank i's part of one timed call (see header): the common start, the collective, the end.
  const auto timed_part = [&](int i, std::uint64_t it, const std::function<void()>& collective) {
    Stream& s = *r.streams[static_cast<std::size_t>(i)];
    if (i == 0) {
      s.record(*r.start);
      s.write_signal(*r.sync, 0, it);
    } else {
      s.wait_signal(*r.sync, 0, it);
    }
    const auto t0 = std::chrono::steady_clock::now();
    collective();
    const double host_us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
    if (i == 0) {
      for (int j = 1; j < n; ++j) s.wait_signal(*r.sync, static_cast<std::size_t>(j), it);
      s.record(*r.end);
    } else {
      s.write_signal(*r.sync, static_cast<std::size_t>(i), it);
    }
    return host_us;
  };
  const bool per_rank = r.threads && spec.graph == 0;
  // What the gated stream (rank 0's) receives while held: the hold, the start, one call, the waits
  // for the other ranks and the end. The gate is used only where that fits under the queue depth.
  const CallPlan call_plan = plan_allreduce_call(spec.algo, n, spec.dtype, spec.count, spec.in_place, config_.communicator);
  const std::size_t gated_ops = (spec.graph > 0 ? 1 : call_plan.ops_per_stream) + static_cast<std::size_t>(n) + 3;
  const bool gate_fits = gated_ops < backend_.stream_queue_depth();

  // One call (or one graph launch), timed on rank 0's clock from a common start to the last
  // rank's end (see header); returns microseconds per call, device and host.
  std::vector<double> host_samples;
  auto call = [&](bool gated) {
    const bool gate_now = gated && r.gate && gate_fits;
    const std::uint32_t timeouts_before = gate_now ? r.gate->timeouts() : 0;
    const std::uint64_t it = ++r.calls;
    double host_us = 0;
    {
      GateHold hold(gate_now ? r.gate.get() : nullptr, *r.streams[0]);
      if (per_rank) {
        std::vector<double> host(static_cast<std::size_t>(n), 0.0);
        r.threads->run(
            [&](int i) {
              const auto u = static_cast<std::size_t>(i);
              host[u] = timed_part(i, it, [&] {
                comm.allreduce_rank(i, spec.dtype, send[u], recv[u], spec.count, *r.streams[u]);
              });
            },
            [&] { comm.abort(); });
        host_us = *std::max_element(host.begin(), host.end());
      } else {
        // One thread: rank 0 starts, every rank's collective is enqueued at once, the rest end. Each
        // wait is enqueued after the write it needs (the order CUDA's scheduler can see).
        host_us = timed_part(0, it, [&] {
          for (int i = 1; i < n; ++i) r.streams[static_cast<std::size_t>(i)]->wait_signal(*r.sync, 0, it);
          enqueue_calls();
          for (int i = 1; i < n; ++i) r.streams[static_cast<std::size_t>(i)]->write_signal(*r.sync, static_cast<std::size_t>(i), it);
        });
      }
    }
    if (deadline) {
      watchdog.wait(r.stream_ptrs, "the all-reduce call");  // aborts the communicator at the deadline
      if (watchdog.expired()) {
        char limit[32];
        std::snprintf(limit, sizeof limit, "%g", *config_.timeout_s);
        throw TimeoutError("the point took longer than its time limit of " + std::string(limit) + " s");
      }
    } else {
      r.synchronize();  // also rethrows the first error of any rank's enqueued work
    }
    if (graph) comm.rewind();
    if (gate_now && r.gate->timeouts() != timeouts_before) {
      throw std::runtime_error("the stream gate timed out while the host enqueued the call; the timing is invalid");
    }
    if (gated) host_samples.push_back(host_us / (graph ? spec.graph : 1));
    return r.end->elapsed_ms_since(*r.start) * 1000.0 / (graph ? spec.graph : 1);  // us per call
  };

  // 1. inputs (and a sentinel in the receive buffers), 2. the checked call.
  for (int i = 0; i < n; ++i) {
    r.streams[i]->copy_from_host(r.send[i].data(), in.host[i].data(), bytes);
    if (!spec.in_place) r.streams[i]->fill(spec.dtype, r.recv[i].data(), spec.count, -1.0);
  }
  r.synchronize();
  call(false);
  std::optional<CheckResult> check;
  bool send_modified = false;
  if (config_.check) {
    check.emplace();
    // Checking every rank's output is host work as large as the collective itself; spread the
    // ranks over the host's cores (each worker copies its ranks' outputs through its own staging
    // buffer; the streams are distinct, so the workers never share one).
    const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    const auto workers = static_cast<int>(std::min<unsigned>(cores, static_cast<unsigned>(n)));
    if (r.host.size() < static_cast<std::size_t>(workers)) r.host.resize(static_cast<std::size_t>(workers));
    std::vector<CheckResult> partial(static_cast<std::size_t>(workers));
    std::vector<char> modified(static_cast<std::size_t>(workers), 0);
    auto check_ranks = [&](int w) {
      std::vector<std::byte>& staging = r.host[static_cast<std::size_t>(w)];
      if (staging.size() < bytes) staging.resize(config_.max_bytes);
      const std::span<std::byte> host(staging.data(), bytes);
      for (int i = w; i < n; i += workers) {
        r.streams[i]->copy_to_host(host.data(), recv[i], bytes);
        r.streams[i]->synchronize();
        partial[w].merge(in.reference->check(host));
        if (!spec.in_place) {
          r.streams[i]->copy_to_host(host.data(), r.send[i].data(), bytes);
          r.streams[i]->synchronize();
          if (bytes > 0 && std::memcmp(host.data(), in.host[i].data(), bytes) != 0) modified[w] = 1;
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
    for (int w = 0; w < workers; ++w) {
      check->merge(partial[w]);
      send_modified = send_modified || modified[w];
    }
  }

  if (spec.graph > 0) {
    // The captured calls' signal waits name fixed values (call * R + g), so every replay must start
    // from the state the capture started from: rewind before capturing and after every replay.
    r.synchronize();
    comm.rewind();
    graph = capture_graph(backend_, r.stream_ptrs, [&] {
      for (int i = 0; i < spec.graph; ++i) comm.allreduce(spec.dtype, send, recv, spec.count, r.stream_ptrs);
    }, config_.graph_capture.value_or(spec.algo.transport == Transport::nccl ? GraphCapture::per_stream
                                                                                 : GraphCapture::fork_join));
    // Out of place every replayed call computes the same sum, so the graph's own result is checked
    // too (in place N calls compound, so only the plain call above is checked).
    if (!spec.in_place && config_.check) {
      for (int i = 0; i < n; ++i) r.streams[i]->fill(spec.dtype, recv[i], spec.count, -1.0);
      call(false);
      std::vector<std::byte>& staging = r.host[0];
      const std::span<std::byte> host(staging.data(), bytes);
      for (int i = 0; i < n; ++i) {
        r.streams[i]->copy_to_host(host.data(), recv[i], bytes);
        r.streams[i]->synchronize();
        check->merge(in.reference->check(host));
      }
    }
  }

  // 3. warm-up and timed calls.
  const Measurement m = measure(config_.stopping, [&](const IterationInfo& it) { return call(!it.warmup); });

  PointRecord rec;
  rec.id = allreduce_point_id(spec);
  rec.kind = "allreduce";
  rec.axes = allreduce_axes(spec);
  rec.stats["time"] = summarize(m.samples, "us");
  set_allreduce_bandwidth(rec, bytes, n);
  rec.stopping = stopping_to_json(config_.stopping, m);
  if (check) {
    nlohmann::json c = {{"wrong_elements", check->wrong},
                        {"checked_elements", check->checked},
                        {"tolerance", check->tolerance},
                        {"input_pattern", input_pattern_name(config_.pattern)}};
    if (std::isfinite(check->max_abs_error)) c["max_abs_error"] = check->max_abs_error;
    if (!spec.in_place) c["send_buffers_unchanged"] = !send_modified;
    rec.check = std::move(c);
    std::string why;
    if (check->wrong > 0) {
      why = std::to_string(check->wrong) + " of " + std::to_string(check->checked) +
            " elements wrong (tolerance " + std::to_string(check->tolerance) + ", max abs error " +
            (std::isfinite(check->max_abs_error) ? std::to_string(check->max_abs_error) : std::string("inf/nan")) + ")";
    }
    if (send_modified) why += std::string(why.empty() ? "" : "; ") + "the out-of-place call modified a send buffer";
    if (!why.empty()) rec.set_status(PointStatus::failed, why);
  }
  const bool gated = r.gate != nullptr && gate_fits;
  rec.stats["host_time"] = summarize(host_samples, "us");
  const double host_median = rec.stats["host_time"].median;
  const bool host_bound = host_median >= rec.stats["time"].median;
  rec.more["extra"] = {{"timing", "rank 0 events: common start to the last rank's end"},
                       {"stream_gate", gated},
                       {"time_statistic", "median"},
                       {"launch", launch_name(per_rank || n == 1 ? config_.launch : Launch::single_thread)},
                       {"launch_mode", spec.graph > 0 ? "graph" : "eager"},
                       {"ops_per_stream", call_plan.ops_per_stream},
                       {"host_bound", host_bound}};
  if (call_plan.scratch_bytes > 0) rec.more["extra"]["scratch_bytes_per_rank"] = call_plan.scratch_bytes;
  if (spec.algo.transport == Transport::nccl && repeated_device(spec.devices)) {
    // NCCL's multi-rank-per-GPU mode (>= 2.30) is experimental and shares one GPU's SMs and memory
    // between ranks: the result is checked, but the time says nothing about a real multi-GPU node.
    rec.more["extra"]["functional_only"] = "NCCL ranks share a GPU (NCCL_MULTI_RANK_GPU_ENABLE)";
  }
  if (call_plan.chunk_bytes > 0) rec.more["extra"]["chunk_bytes"] = call_plan.chunk_bytes;
  if (r.gate != nullptr && !gate_fits) {
    rec.more["extra"]["stream_gate_skipped"] = "one call's " + std::to_string(gated_ops) +
                                               " operations on rank 0's stream would reach the queue depth of " +
                                               std::to_string(backend_.stream_queue_depth());
  }
  if (graph) {
    rec.more["extra"]["graph"] = {{"calls_per_launch", spec.graph},
                                  {"capture", graph_capture_name(graph->strategy())},
                                  {"nodes", graph->nodes()},
                                  {"graphs", graph->graphs()}};
  }
  return rec;
}

}  // namespace dpb
