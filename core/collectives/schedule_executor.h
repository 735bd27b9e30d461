// The one executor for every schedule, on any backend: a copy to a peer is Stream::copy_peer on
// the sender's stream, a reduce is Stream::reduce_add, a signal is an Event recorded on its
// owner's stream and waited on by others. One host thread enqueues all ranks' steps in
// enqueue_order (schedule_order.h).
#pragma once
#include <memory>
#include <span>
#include <vector>

#include "collectives/schedule.h"
#include "collectives/schedule_order.h"
#include "device/backend.h"

namespace dpb {

// Where one rank's regions live for one call.
struct RankMemory {
  const void* input = nullptr;
  void* output = nullptr;
  void* scratch = nullptr;
};

// A schedule with what is expensive to make done once: its enqueue order and one (non-timing)
// event per signal on the owner's device. Reused across calls of the same shape; runs cost no
// allocation. Not thread-safe: one host thread enqueues.
class PreparedSchedule {
 public:
  // `devices[r]` is rank r's device. Throws ScheduleError when the schedule deadlocks.
  PreparedSchedule(Backend& backend, Schedule schedule, const std::vector<int>& devices);
  PreparedSchedule(const PreparedSchedule&) = delete;
  PreparedSchedule& operator=(const PreparedSchedule&) = delete;

  const Schedule& schedule() const { return schedule_; }
  const std::vector<StepRef>& order() const { return order_; }

  // Enqueues the whole schedule. memory[r] and streams[r] belong to rank r; scratch must hold
  // schedule().scratch_elems[r] elements of `type`. Returns once enqueued.
  void enqueue(DType type, std::span<const RankMemory> memory, std::span<Stream* const> streams) const;

 private:
  Schedule schedule_;
  std::vector<int> devices_;
  std::vector<StepRef> order_;
  std::vector<std::unique_ptr<Event>> events_;
};

}  // namespace dpb
