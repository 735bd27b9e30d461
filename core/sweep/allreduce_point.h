// One `dpbench allreduce` point: allocate, fill, check against the host reference, time.
//
// AllreduceBench holds what points share so a sweep allocates and connects once: the backend,
// a CommunicatorCache (one communicator per (algo, devices), reused across sizes, dtypes and
// placements), per-rank streams and buffers sized for the largest message (re-made only when the
// device list changes), and the host inputs/reference of the last (dtype, ranks, count).
//
// Per point:
//   1. inputs: deterministic per-rank values (collectives/allreduce_check.h) copied to each rank's
//      send buffer; out of place, the receive buffers are first filled with -1, a value no correct
//      result has, so a collective that writes nothing is caught;
//   2. checked call (untimed, ungated: also the setup call, e.g. NCCL's lazy connection set-up):
//      every rank's output is compared with the host reference (wrong-element count as
//      nccl-tests), and out of place the send buffers must be unchanged;
//   3. warm-up then timed calls under the adaptive stopping rule (measure/stopping.h). In-place
//      calls compound (each multiplies the data by about n); that changes values, not the work.
// A point with wrong elements is returned with status "failed" and the count in the reason.
// With graph = N (cuda backend), N calls are captured into a CUDA graph after the checked call and
// every sample is one graph launch divided by N (nccl-tests -G); out of place the graph's result
// is checked as well.
//
// Timing one call (why this way): CUDA cannot time events of two devices against each other, so
// one clock is used, rank 0's. A start event is recorded on rank 0's stream, which then writes a
// "start" signal every other rank's stream waits for, so no rank starts early; after the
// collective each other rank writes its "done" signal, which rank 0's stream waits for before
// recording the end event. end - start on rank 0 is the time from the common start until the
// LAST rank finished: the collective's latency as a training step sees it. Signals (not events)
// because with a thread per rank the ranks enqueue in no fixed host order.
//
// Launch: with a thread per rank (the default) each rank's thread enqueues its own part
// (Communicator::allreduce_rank), as DDP processes do; single-thread enqueues all ranks from one.
// The host time of a call (the longest any rank's thread spent enqueueing it) is recorded beside
// the device time, with the operations each stream receives per call; a point whose median host
// time reaches its median device time is marked host-bound (its device time then reflects how
// fast the host feeds the device).
//
// For timed calls rank 0's stream is held by a stream gate (device/stream_gate.h, as nvbench and
// p2pBandwidthLatencyTest do) while the host enqueues every rank's work, so the time is device
// time, not the host's enqueue rate; warm-up and checked calls run ungated. A held stream must
// never reach the backend's queue depth (the host would block on it for ever, as CUDA's would at
// ~1,000 pending operations), so the gate is used only when one call's operations fit under it;
// the record says whether the timed calls were gated.
#pragma once
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "collectives/allreduce_check.h"
#include "collectives/communicator.h"
#include "collectives/communicator_cache.h"
#include "collectives/rank_threads.h"
#include "graph/graph_capture.h"
#include "measure/stopping.h"
#include "results/point_axes.h"
#include "results/point_record.h"

namespace dpb {

struct AllreducePointSpec {
  AlgorithmName algo;
  DType dtype = DType::f32;
  std::vector<int> devices;  // rank r on devices[r]
  std::size_t count = 0;     // elements per rank
  bool in_place = false;
  int graph = 0;             // calls captured per CUDA graph launch; 0 = no graph

  int ranks() const { return static_cast<int>(devices.size()); }
  std::size_t bytes() const { return count * dtype_size(dtype); }
};

// The point's axes, declared once (allreduce_spec.cpp): algo, dtype, ranks, devices, bytes, count
// (not in the id: it follows from bytes and dtype), in_place, graph. The functions below are its
// derivations.
const PointAxes<AllreducePointSpec>& allreduce_point_axes();

// "allreduce/algo=p2p-ring/dtype=fp32/ranks=4/devices=0,1,2,3/bytes=65536/in_place=0/graph=0"
std::string allreduce_point_id(const AllreducePointSpec& p);
// {algo, dtype, ranks, devices, bytes, count, in_place, graph}
nlohmann::json allreduce_axes(const AllreducePointSpec& p);
// Short label for progress lines: "p2p-ring fp32 n=4 64K oop".
std::string allreduce_label(const AllreducePointSpec& p);

// nccl-tests' all-reduce bus bandwidth factor 2(n-1)/n (0 for one rank).
double allreduce_busbw_factor(int ranks);

struct AllreduceConfig {
  StoppingOptions stopping;
  bool check = true;
  InputPattern pattern = InputPattern::integers;
  std::size_t max_bytes = 0;  // buffers are sized for this (the sweep's largest message)
  bool gate = true;           // hold rank 0's stream while enqueueing timed calls
  CommunicatorOptions communicator;
  // How --graph captures (graph/graph_capture.h). Unset: per_stream for NCCL (NCCL advises one GPU
  // per capture), fork_join for p2p (one graph over the ranks' streams).
  std::optional<GraphCapture> graph_capture;
  Launch launch = Launch::thread_per_rank;
  // Seconds one point may take (set-up, check and timed calls); past it the point fails with a
  // TimeoutError, and a call still running then is aborted (the communicator's abort, which on the
  // cpu backend aborts the backend: nothing more can run on it). Empty: no limit.
  std::optional<double> timeout_s;
  // Test seam: when set, points use this communicator instead of the cache's (e.g. a deliberately
  // broken one, to prove wrong results are reported).
  std::function<Communicator&(const AllreducePointSpec&)> communicator_for;
};

class AllreduceBench {
 public:
  // `communicators`: how many communicators the cache keeps (at least the number of algorithms a
  // sweep alternates between, so none is re-created).
  AllreduceBench(Backend& backend, AllreduceConfig config, std::size_t communicators = 4);
  ~AllreduceBench();
  AllreduceBench(const AllreduceBench&) = delete;
  AllreduceBench& operator=(const AllreduceBench&) = delete;

  // Measures one point. Throws for errors that stop the point (the sweep records them as failed);
  // wrong results are returned as a failed record with everything measured.
  PointRecord run(const AllreducePointSpec& spec);

  std::size_t communicators_created() const;

 private:
  struct Ranks;   // streams, buffers and events for one device list
  struct Inputs;  // host inputs and reference for one (dtype, ranks, count)
  class PointRun;  // one point's measurement
  Ranks& ranks_for(const std::vector<int>& devices);
  const Inputs& inputs_for(DType dtype, int ranks, std::size_t count);

  Backend& backend_;
  AllreduceConfig config_;
  CommunicatorCache comms_;
  std::unique_ptr<Ranks> ranks_;
  std::unique_ptr<Inputs> inputs_;
};

}  // namespace dpb
