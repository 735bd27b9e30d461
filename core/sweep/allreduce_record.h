// From what one all-reduce point measured to its result record (the schema's $defs/point): the
// summarise step of declare -> measure -> summarise -> print. Measurement (allreduce_point.cpp,
// allreduce_world_point.cpp) returns samples, check results and how the calls ran; these builders
// alone turn them into record fields; printers (allreduce_table.h) read records only.
#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "collectives/allreduce_check.h"
#include "collectives/communicator.h"
#include "graph/graph_capture.h"
#include "measure/stopping.h"
#include "results/point_record.h"
#include "sweep/allreduce_point.h"

namespace dpb {

// The correctness check of one point, over every rank.
struct AllreduceCheck {
  CheckResult result;
  bool send_modified = false;  // out of place: some rank's send buffer changed
};

// What measuring one point returns.
struct AllreduceSamples {
  Measurement timing;            // device time per call (us) and the stopping rule's account
  std::vector<double> host_us;   // per timed call: the longest any rank spent enqueueing it
  std::optional<AllreduceCheck> check;  // empty without --check
};

// How the calls of an in-process point ran (its record's "extra").
struct AllreduceCallSetup {
  CallPlan plan;                 // operations per stream, scratch and chunk of one call
  Launch launch = Launch::thread_per_rank;
  bool gated = false;            // timed calls enqueued while rank 0's stream was held
  // Set when the backend has a gate but one call would reach its queue depth while held.
  struct GateSkipped {
    std::size_t ops = 0;
    std::size_t queue_depth = 0;
  };
  std::optional<GateSkipped> gate_skipped;
  struct Graph {
    int calls_per_launch = 0;
    GraphCapture capture = GraphCapture::fork_join;
    std::size_t nodes = 0;
    std::size_t graphs = 0;
  };
  std::optional<Graph> graph;
};

// A process-per-rank point's per-rank times (rank 0 only): each rank's median time per call.
struct AllreduceRankTimes {
  std::vector<double> medians_us;
};

// The record of a point measured in one process (AllreduceBench).
PointRecord allreduce_record(const AllreducePointSpec& spec, const AllreduceConfig& config,
                             const AllreduceSamples& samples, const AllreduceCallSetup& setup);

// The record of a point measured with a process per rank (WorldAllreduceBench), on rank 0.
PointRecord allreduce_world_record(const AllreducePointSpec& spec, const AllreduceConfig& config,
                                   const AllreduceSamples& samples, const AllreduceRankTimes& ranks);

// What every all-reduce record starts with: id, kind and axes (the other ranks of a process-per-rank
// point return only this).
PointRecord allreduce_record_head(const AllreducePointSpec& spec);

}  // namespace dpb
