// The NCCL transport: nccl-ring, nccl-tree and nccl-auto on the cuda backend (single process, all
// ranks created together with ncclCommInitAll, one host thread driving them inside a group).
//
// Forcing the algorithm: NCCL reads NCCL_ALGO at every communicator init (FACTS.md), and
// ncclConfig_t has no algorithm field, so ring/tree show NCCL_ALGO=Ring/Tree to their init and
// nccl-auto shows the user's own NCCL_ALGO (or an empty one: NCCL's choice). Every init runs
// through run_nccl_init (communicator_env.h): one at a time, and the variable only ever has its
// value replaced, never added or removed, so getenv on other threads (rank threads in NCCL calls,
// proxy threads of cached communicators) never races it. Communicators may be created from any
// thread.
//
// This header includes no NCCL or CUDA header, so host code may include it; the definitions are in
// nccl_communicator.cpp and nccl_world_communicator.cpp in CUDA builds, and in
// no_nccl_communicator.cpp (refusals) otherwise: core/CMakeLists.txt compiles one set.
#pragma once
#include <memory>
#include <vector>

#include "collectives/communicator.h"

namespace dpb {

// Creates the communicator for `devices` (cuda ordinals, one rank each). Throws
// std::invalid_argument when NCCL cannot place the ranks (a repeated device without NCCL >= 2.30
// and options.nccl_multi_rank_gpu) and DeviceError when NCCL fails.
std::unique_ptr<Communicator> make_nccl_communicator(Backend& backend, const AlgorithmName& algo,
                                                     const std::vector<int>& devices,
                                                     const CommunicatorOptions& options);

class World;
// Process per rank (make_world_communicator): one ncclComm_t for this process's rank, made by
// ncclCommInitRank with the unique id rank 0 made (ncclGetUniqueId) broadcast through `world`.
// Works across nodes. Compiled here, never run: no GPU where it was written.
std::unique_ptr<Communicator> make_nccl_world_communicator(Backend& backend, World& world, const AlgorithmName& algo,
                                                           int device, const CommunicatorOptions& options);

// The NCCL version loaded at run time (ncclGetVersion), as NCCL_VERSION_CODE encodes it.
int nccl_runtime_version();

}  // namespace dpb
