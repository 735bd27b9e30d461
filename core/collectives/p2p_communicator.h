// The "p2p" transport: p2p-ring, p2p-tree and p2p-direct run as schedules through the executor on
// any backend (cpu, or cuda where copies are cudaMemcpyPeerAsync and signals are stream memory
// operations).
//
// What is expensive is made once and cached: per (dtype, count, in-place) a PreparedSchedule (its
// signals), built within kMaxOpsPerStream operations per stream, and per rank one scratch buffer
// grown to the largest schedule seen. Repeated calls of one size allocate nothing. Before a cached
// plan is dropped or scratch is regrown, the communicator waits until every rank's earlier calls
// have finished (a fence signal per rank, written after each call).
//
// Two ways to drive it: allreduce() from one thread for all ranks, or allreduce_rank() from a
// thread per rank, which meet once per call on the host (rank_rendezvous.h) to agree on the plan
// and exchange buffer addresses, then each enqueue their own steps. Do not mix the two
// concurrently on one communicator.
#pragma once
#include <list>
#include <memory>
#include <utility>
#include <vector>

#include "collectives/communicator.h"
#include "collectives/rank_rendezvous.h"
#include "collectives/schedule_executor.h"

namespace dpb {

struct P2pCacheStats {
  std::size_t plans_built = 0;          // schedules built and prepared so far
  std::size_t plans_cached = 0;         // held now (at most P2pCommunicator::kMaxPlans)
  std::size_t scratch_allocations = 0;  // scratch buffers allocated so far, all ranks
};

// The shape a p2p all-reduce of `count` elements starts from (before build_schedule_within grows
// its chunk): chunk and slots from the options.
ScheduleShape p2p_schedule_shape(int ranks, DType type, std::size_t count, bool in_place,
                                 const CommunicatorOptions& options);

// The schedule a p2p all-reduce runs: built within kMaxOpsPerStream operations per stream,
// counting the communicator's own operations after it.
Schedule build_p2p_schedule(const std::string& algorithm, int ranks, DType type, std::size_t count, bool in_place,
                            const CommunicatorOptions& options);

class P2pCommunicator final : public Communicator {
 public:
  static constexpr std::size_t kMaxPlans = 16;
  // Operations a call adds to each stream beyond its schedule's steps: the fence signal.
  static constexpr std::size_t kOpsAfterSchedule = 1;

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
  void allreduce_rank(int rank, DType type, const void* send, void* recv, std::size_t count, Stream& stream) override;
  // Call counters back to 0 and every signal slot to 0 (signals name call * R + g).
  void rewind() override;

  // Backend::abort (cpu: every blocked wait throws), every signal released (cuda: a stream waiting
  // on a peer that never comes drains), and ranks' threads blocked in allreduce_rank are released
  // with an error.
  void abort() override;

  P2pCacheStats cache_stats() const;

 private:
  struct PlanKey {
    DType type;
    std::size_t count;
    bool in_place;
    bool operator==(const PlanKey&) const = default;
  };
  struct Plan {
    std::unique_ptr<PreparedSchedule> prepared;
    std::uint64_t calls = 0;  // calls enqueued so far: the next call's index
  };
  // One rank's part of a call, posted for the rendezvous.
  struct Posted {
    DType type = DType::f32;
    std::size_t count = 0;
    const void* send = nullptr;
    void* recv = nullptr;
    Stream* stream = nullptr;
  };

  Plan& plan(const PlanKey& key);
  void ensure_scratch(DType type, const Schedule& schedule);
  void check_rank_args(int rank, DType type, const void* send, const void* recv, std::size_t count,
                       const Stream* stream) const;
  // The rendezvous' work for one call: checks the ranks agree, picks the plan, sets memory_.
  void agree_on_call();
  void write_fence(int rank, Stream& stream);
  // Blocks until all work enqueued by earlier calls has finished. Never throws.
  void drain() noexcept;

  Backend& backend_;
  std::string algorithm_;
  std::string name_;  // "p2p-ring", for messages
  std::vector<int> devices_;
  CommunicatorOptions options_;
  std::list<std::pair<PlanKey, Plan>> plans_;  // most recent first
  std::vector<DeviceBuffer> scratch_;          // per rank
  std::vector<RankMemory> memory_;             // per rank, for the current call
  // Fences: slot r reaches fenced_[r] once rank r's calls so far have finished on its stream.
  std::unique_ptr<SignalSet> fence_;
  std::vector<std::uint64_t> fenced_;
  // Thread per rank: the meeting point, each rank's posted part, and what the last arriver agreed.
  RankRendezvous rendezvous_;
  std::vector<Posted> posted_;
  Plan* current_ = nullptr;
  std::uint64_t current_call_ = 0;
  P2pCacheStats stats_;
};

}  // namespace dpb
