// One `dpbench allreduce` point with a process per rank (mpirun/srun, world/world.h): this
// process measures its own rank; rank 0 gets the point's record.
//
// Per point, on every rank: its inputs (the same deterministic values as in one process), the
// checked call (each rank checks its own output; wrong and checked elements are summed over ranks),
// then warm-up and timed calls. Rank 0 runs the stopping rule and tells the others, before every
// call, whether it is a warm-up call, a timed call or the end, so every rank makes the same calls.
//
// Timing one call (why this way): processes share no device clock, so each rank times its own
// call with its own events, from the exit of a host barrier to the end of its part of the
// collective. Every per-rank time is gathered on rank 0; a call's sample is the slowest rank's
// time (as in one process, where the time runs to the last rank's end). The record keeps, as
// nccl-tests -a does across MPI ranks, the per-rank median times' min/avg/max and which rank was
// slowest. The barrier's exit skew between processes (microseconds on one node; more when cores
// are oversubscribed) is part of the slowest rank's time.
#pragma once
#include <map>
#include <memory>
#include <string>

#include "sweep/allreduce_point.h"
#include "sweep/allreduce_record.h"
#include "world/world.h"

namespace dpb {

class WorldAllreduceBench {
 public:
  // This rank runs on `device`. config.launch is ignored (one rank per process); graphs are refused.
  WorldAllreduceBench(Backend& backend, World& world, AllreduceConfig config, int device);
  ~WorldAllreduceBench();
  WorldAllreduceBench(const WorldAllreduceBench&) = delete;
  WorldAllreduceBench& operator=(const WorldAllreduceBench&) = delete;

  // Collective: every rank calls it with the same spec, in the same order. spec.devices holds every
  // rank's device (devices()). Returns the full record on rank 0, a record without per-rank
  // statistics elsewhere.
  PointRecord run(const AllreducePointSpec& spec);

  // Every rank's device, by rank.
  const std::vector<int>& devices() const { return devices_; }

 private:
  Communicator& communicator(const AlgorithmName& algo);
  // Steps of run(): this rank's inputs and checked call (the check summed over ranks; empty
  // without --check), then the warm-up and timed calls (per-rank times on rank 0).
  std::optional<AllreduceCheck> checked_call(const AllreducePointSpec& spec, Communicator& comm);
  AllreduceSamples timed_calls(const AllreducePointSpec& spec, Communicator& comm, AllreduceRankTimes& ranks);
  // One call on this rank from a barrier's exit: every rank's device time and host time (us).
  std::pair<std::vector<double>, std::vector<double>> call(const AllreducePointSpec& spec, Communicator& comm);

  Backend& backend_;
  World& world_;
  AllreduceConfig config_;
  int device_;
  std::vector<int> devices_;
  std::map<std::string, std::unique_ptr<Communicator>> comms_;
  std::unique_ptr<Stream> stream_;
  DeviceBuffer send_, recv_;
  std::unique_ptr<Event> start_, end_;
};

}  // namespace dpb
