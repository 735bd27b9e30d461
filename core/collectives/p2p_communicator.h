// The "p2p" transport: p2p-ring, p2p-tree and p2p-direct run as schedules through the executor on
// any backend (cpu, or cuda where copies are cudaMemcpyPeerAsync).
//
// What is expensive is made once and cached: per (dtype, count, in-place) a PreparedSchedule (its
// enqueue order and events), and per rank one scratch buffer grown to the largest schedule seen.
// Repeated calls of one size allocate nothing. Before a cached plan is dropped or scratch is
// regrown, the communicator waits for its earlier calls to finish (fence events per stream).
#pragma once
#include <list>
#include <memory>
#include <utility>
#include <vector>

#include "collectives/communicator.h"
#include "collectives/schedule_executor.h"

namespace dpb {

struct P2pCacheStats {
  std::size_t plans_built = 0;          // schedules built and prepared so far
  std::size_t plans_cached = 0;         // held now (at most P2pCommunicator::kMaxPlans)
  std::size_t scratch_allocations = 0;  // scratch buffers allocated so far, all ranks
};

class P2pCommunicator final : public Communicator {
 public:
  static constexpr std::size_t kMaxPlans = 16;

  // `algorithm` is "ring", "tree" or "direct". Enables peer access between the devices where the
  // backend allows it. Throws std::invalid_argument for a bad algorithm, device or option.
  P2pCommunicator(Backend& backend, std::string algorithm, std::vector<int> devices, CommunicatorOptions options);
  ~P2pCommunicator() override;
  P2pCommunicator(const P2pCommunicator&) = delete;
  P2pCommunicator& operator=(const P2pCommunicator&) = delete;

  AlgorithmName algorithm() const override { return {Transport::p2p, algorithm_}; }
  int ranks() const override { return static_cast<int>(devices_.size()); }
  const std::vector<int>& devices() const override { return devices_; }

  void allreduce(DType type, std::span<const void* const> send, std::span<void* const> recv, std::size_t count,
                 std::span<Stream* const> streams) override;

  // cpu backend: aborts the backend, so every blocked wait throws. cuda: the copies of a schedule
  // never wait on anything outside it, so in-flight work finishes on its own; nothing to cancel.
  void abort() override;

  P2pCacheStats cache_stats() const;
  // The schedule an allreduce of this shape runs (built and cached if new).
  const Schedule& schedule_for(DType type, std::size_t count, bool in_place);
  // Elements per chunk for `type` under this communicator's options.
  std::size_t chunk_elems(DType type) const;

 private:
  struct PlanKey {
    DType type;
    std::size_t count;
    bool in_place;
    bool operator==(const PlanKey&) const = default;
  };
  const PreparedSchedule& plan(const PlanKey& key);
  void ensure_scratch(DType type, const Schedule& schedule);
  void record_fences(std::span<Stream* const> streams);
  // Blocks until all work enqueued by earlier calls has finished. Never throws.
  void drain() noexcept;

  Backend& backend_;
  std::string algorithm_;
  std::string name_;  // "p2p-ring", for messages
  std::vector<int> devices_;
  CommunicatorOptions options_;
  std::list<std::pair<PlanKey, std::unique_ptr<PreparedSchedule>>> plans_;  // most recent first
  std::vector<DeviceBuffer> scratch_;                                       // per rank
  std::vector<RankMemory> memory_;                                          // per rank, reused per call
  // Per rank: one fence event per stream the communicator has enqueued on.
  std::vector<std::vector<std::pair<const Stream*, std::unique_ptr<Event>>>> fences_;
  P2pCacheStats stats_;
};

}  // namespace dpb
