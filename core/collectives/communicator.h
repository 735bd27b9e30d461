// The communicator seam: an all-reduce world of N ranks, each rank a device plus the streams the
// caller passes. Implementations: the schedule executor ("p2p" transport: p2p-ring, p2p-tree,
// p2p-direct, on any backend) and NCCL (nccl-ring, nccl-tree, nccl-auto; cuda backend only).
//
// How ranks find each other is behind make_communicator: every rank lives in this process. Ranks
// are driven either by one host thread that enqueues all ranks' work (allreduce; NCCL inside
// ncclGroupStart/End) or by a host thread per rank, as DDP runs (allreduce_rank, each thread its
// own rank). A later MPI transport replaces the factory, not the callers.
#pragma once
#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "device/backend.h"

namespace dpb {

// mpi: the MPI library's own MPI_Allreduce (process per rank only).
enum class Transport { p2p, nccl, mpi };

// A parsed --algo name.
struct AlgorithmName {
  Transport transport;
  std::string algorithm;  // "ring", "tree", "direct" (p2p), "ring", "tree", "auto" (nccl), "" (mpi)
  std::string text() const;  // "p2p-ring", "nccl-auto", "mpi", ...
};

// Parses "p2p-ring|p2p-tree|p2p-direct|nccl-ring|nccl-tree|nccl-auto|mpi"; throws
// std::invalid_argument listing the valid names otherwise.
AlgorithmName parse_algorithm(std::string_view name);
std::vector<std::string> all_algorithm_names();

struct CommunicatorOptions {
  // p2p: elements per pipelined chunk are derived from this many bytes (bounded scratch per rank).
  std::size_t chunk_bytes = std::size_t{1} << 20;
  // p2p: chunks in flight per link; scratch per rank is about slots * chunk_bytes per peer.
  int pipeline_slots = 4;
  // nccl: allow several ranks on one GPU where the loaded NCCL supports it (NCCL >= 2.30,
  // NCCL_MULTI_RANK_GPU_ENABLE=1). Off by default: repeated devices are refused with a clear error.
  bool nccl_multi_rank_gpu = false;
};

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual AlgorithmName algorithm() const = 0;
  virtual int ranks() const = 0;
  virtual const std::vector<int>& devices() const = 0;

  // Enqueues a sum all-reduce of `count` elements. send[r] and recv[r] are rank r's buffers on
  // devices()[r] (send[r] == recv[r] means in place); the work for rank r goes on streams[r].
  // Returns once enqueued; completion is observed through the streams.
  virtual void allreduce(DType type, std::span<const void* const> send, std::span<void* const> recv,
                         std::size_t count, std::span<Stream* const> streams) = 0;

  // Thread per rank: rank `rank`'s part of one all-reduce, called from that rank's own host thread
  // (as each DDP process calls its own NCCL communicator). Every rank must make the same sequence
  // of calls with the same type, count and placement. Returns once this rank's work is enqueued.
  // The default refuses: a communicator that cannot be driven per rank says so.
  virtual void allreduce_rank(int rank, DType type, const void* send, void* recv, std::size_t count, Stream& stream);

  // Forgets how many calls ran, so the next call enqueues exactly what the first one did: a CUDA
  // graph captured from calls since the last rewind can then be replayed. Only after every rank's
  // stream has been synchronized. The default does nothing (NCCL keeps its own state).
  virtual void rewind() {}

  // Tears down in-flight work after a timeout (ncclCommAbort; the cpu backend's abort), and
  // releases ranks' threads blocked in allreduce_rank.
  virtual void abort() = 0;
};

// What one all-reduce call puts on the streams, known before anything runs (--dry-run, records).
struct CallPlan {
  std::size_t ops_per_stream = 0;  // the most operations one call enqueues on any rank's stream
  std::size_t scratch_bytes = 0;   // p2p: the largest rank's scratch; 0 for NCCL (its own buffers)
  std::size_t chunk_bytes = 0;     // p2p: the pipelining unit after adapting to the message; 0 for NCCL
  // p2p: the schedule's own counts (count_schedule) for the cost model, the busiest rank's: peer
  // copies it issues and bytes it sends per call. 0 for NCCL and mpi (their schedules are not ours).
  std::size_t messages_per_rank = 0;
  std::size_t wire_bytes_per_rank = 0;
  // {"messages_per_rank", "wire_bytes_per_rank", "source": "count_schedule"} for p2p, null otherwise.
  nlohmann::json schedule_json() const;
};
// Throws std::invalid_argument for a bad shape (no ranks).
CallPlan plan_allreduce_call(const AlgorithmName& algo, int ranks, DType type, std::size_t count, bool in_place,
                             const CommunicatorOptions& options);

// Creates a communicator for ranks on `devices` (repeats allowed for p2p). Throws
// std::invalid_argument for an algorithm the backend cannot run (NCCL names on the cpu backend,
// NCCL with repeated devices) with a message that names the algorithm and why.
std::unique_ptr<Communicator> make_communicator(Backend& backend, const AlgorithmName& algo,
                                                const std::vector<int>& devices,
                                                const CommunicatorOptions& options = {});

class World;
// Process per rank: this process is rank world.rank(), on `device` of `backend`; its peers are
// the world's other processes. Collective: every rank calls it in the same order with the same
// algorithm and options. p2p-* runs between the processes of one node (buffers and signals in
// memory they share, Backend::allocate_shared) and is refused across nodes with a message naming
// the hosts; nccl-* uses ncclCommInitRank with the unique id broadcast through the world; mpi is
// the library's MPI_Allreduce. The returned communicator is driven by allreduce_rank(world.rank(),
// ...) only, and must not outlive `world`.
std::unique_ptr<Communicator> make_world_communicator(Backend& backend, World& world, const AlgorithmName& algo,
                                                      int device, const CommunicatorOptions& options = {});

}  // namespace dpb
