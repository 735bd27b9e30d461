// A process per rank in the CLI (mpirun/srun; world/world.h): what `dpbench allreduce` (and later
// `train`) does differently when each rank is its own process. Rank 0 is the leader: it prints,
// writes the one results file and decides resumption; every rank runs the same points in the same
// order; --timeout ends the whole job from a watchdog thread when a peer hangs or dies.
#pragma once
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli_sweep_flags.h"
#include "collectives/communicator.h"
#include "results/results_file.h"
#include "sweep/sweep.h"
#include "world/job_watchdog.h"
#include "world/world.h"

namespace dpb::cli {

// The world when this process was started by an MPI launcher (detect_process_launcher), else null.
std::unique_ptr<World> open_world_if_launched();

// Refuses what a process per rank cannot run: --algo mpi without one; p2p-* across nodes.
void check_world_algorithms(const std::vector<AlgorithmName>& algos, const World* world);

// This rank's device: its index among the ranks of its node, modulo the backend's devices.
int world_device(const World& world, int device_count);

// Adds the job to a system block: "launch": "process-per-rank", "mpi" (the library), "hosts"
// (every host, once) and "ranks" ([{rank, host, device}]).
void describe_world(nlohmann::json& system, World& world, const std::vector<int>& devices);

// Rank 0 opens the results file as open_results_file does; every rank learns the ids already
// recorded (--resume) or rank 0's error, which every rank then throws. Null on ranks other than 0.
std::optional<ResultsFile> open_world_results_file(World& world, const OutputFlags& flags,
                                                   const ResultsHeader& header, std::set<std::string>& done);

// Drops the points in `done` (ranks other than 0: rank 0's run_sweep skips them itself).
void drop_done_points(std::vector<SweepPoint>& plan, const std::set<std::string>& done);

// Wraps every point's run with a deadline of `timeout_s`: past it, rank 0 appends the point as
// "timeout" to `results` (when there is one) and every rank prints one line and ends the job
// (World::abort_job). Ranks other than 0 wait a little longer, so rank 0 records first.
void guard_points(std::vector<SweepPoint>& plan, World& world, JobWatchdog& watchdog, double timeout_s,
                  ResultsFile* results);

}  // namespace dpb::cli
