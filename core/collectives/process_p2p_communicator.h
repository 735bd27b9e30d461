// p2p-ring, p2p-tree and p2p-direct with a process per rank on one node (mpirun/srun): the same
// schedules and executor as P2pCommunicator, with every rank's regions and the schedules' signals
// in memory the node's processes share (Backend::allocate_shared: POSIX shared memory on the cpu
// backend; on cuda, staging through CUDA IPC and signals in registered POSIX shared memory,
// core/device/cuda_shared_memory.h). Refused across nodes, and on cuda for two processes on one
// GPU (local_devices). The cuda path is compiled, never run: no GPU where it was written.
//
// Where things live:
// - staging, per rank, owned by that rank's process and mapped by every peer: [output | scratch].
//   A call copies the caller's send buffer into the staging output, runs the in-place schedule
//   there (peers' copies write into it directly), then copies the result to recv. Cost: two local
//   copies of the message per call beyond what P2pCommunicator does (bytes read + written = 4x the
//   message), the price of buffers that are not registered (NCCL registers user buffers instead).
//   Staging grows to the next power of two of the largest message; growing is collective.
// - signals: one arena of host memory (Backend::kSharedHost) owned by rank 0, kMaxPlans regions
//   of (ranks x kMaxOpsPerStream) slots, a region per cached plan; waits poll (cpu) since no
//   wake-up crosses processes; on cuda they are stream memory waits on the registered words.
// - addresses and handles are exchanged through the World once per growth, never per call.
//
// The contract is NCCL's: every rank makes the same sequence of calls with the same type and
// count (nothing checks it per call; a mismatch hangs until the timeout). Every plan change that
// evicts, and every staging growth, happens at the same call on every rank and is a host barrier.
#pragma once
#include <list>
#include <memory>
#include <string>
#include <vector>

#include "collectives/communicator.h"
#include "collectives/schedule_executor.h"
#include "world/world.h"

namespace dpb {

class ProcessP2pCommunicator final : public Communicator {
 public:
  static constexpr std::size_t kMaxPlans = 8;

  // Collective over `world`. Throws std::invalid_argument when the world spans several hosts (the
  // message names them) or the backend cannot share memory between processes.
  ProcessP2pCommunicator(Backend& backend, World& world, std::string algorithm, int device,
                         CommunicatorOptions options);
  ~ProcessP2pCommunicator() override;
  ProcessP2pCommunicator(const ProcessP2pCommunicator&) = delete;
  ProcessP2pCommunicator& operator=(const ProcessP2pCommunicator&) = delete;

  AlgorithmName algorithm() const override { return {Transport::p2p, algorithm_}; }
  int ranks() const override { return world_.size(); }
  const std::vector<int>& devices() const override { return devices_; }

  // One process holds one rank: refuses unless called with that rank's buffers and stream only.
  void allreduce(DType type, std::span<const void* const> send, std::span<void* const> recv, std::size_t count,
                 std::span<Stream* const> streams) override;
  void allreduce_rank(int rank, DType type, const void* send, void* recv, std::size_t count, Stream& stream) override;
  // Waits on peers poll and give up when the backend is aborted; a rank blocked in a host barrier
  // is ended by World::abort_job (the MPI timeout path).
  void abort() override {}

 private:
  struct Plan {
    DType type;
    std::size_t count;
    std::size_t region;  // which signal region of the arena
    std::unique_ptr<PreparedSchedule> prepared;
    std::uint64_t calls = 0;
  };
  Plan& plan(DType type, std::size_t count);
  void ensure_staging(std::size_t bytes);
  // Closes the peers' staging mappings, then (after a barrier) frees this rank's own. Collective.
  void release_staging();
  // Throws `why` (when not empty) on every rank once any rank has a reason; collective.
  void refuse_together(const std::string& why);
  // Every rank's device as this process numbers it (matched by GPU UUID; ordinals where the
  // devices are simulated); refuses, on every rank, two processes on one real GPU and a rank's
  // GPU that another process cannot see. Collective.
  std::vector<int> local_devices();
  // Every rank's earlier calls have finished on every stream: drain, then a host barrier.
  void quiesce();
  void drain() noexcept;

  Backend& backend_;
  World& world_;
  std::string algorithm_;
  std::string name_;
  int rank_;
  int device_;
  std::vector<int> devices_;
  CommunicatorOptions options_;
  std::size_t slots_per_plan_;
  DeviceBuffer arena_;                 // rank 0's signal arena, mapped here
  std::vector<DeviceBuffer> staging_;  // every rank's staging, mapped here, by rank
  std::size_t staging_bytes_ = 0;      // the same on every rank
  std::vector<RankMemory> memory_;     // this call's regions, kept so a call allocates nothing
  std::list<Plan> plans_;              // most recent first
  std::unique_ptr<SignalSet> fence_;   // this rank's stream: calls finished so far
  std::uint64_t fenced_ = 0;
};

}  // namespace dpb
