// The order in which one host thread enqueues all ranks' steps of a schedule.
//
// Stream::wait binds to the most recent record of the event enqueued before the wait, so every
// wait must be enqueued after the record it needs and before that signal's next record. The
// order goes round-robin over ranks, advancing each until it reaches a wait whose record is not
// enqueued yet, or a record that would overwrite a generation some wait has not bound to yet.
// When no rank can advance the schedule deadlocks and the order is refused with ScheduleError.
#pragma once
#include <cstdint>
#include <vector>

#include "collectives/schedule.h"

namespace dpb {

struct StepRef {
  int rank = 0;
  std::uint32_t index = 0;  // into schedule.steps[rank]
};

// Every step of `schedule` exactly once, in an order that satisfies the rules above. Throws
// ScheduleError naming the blocked steps when the schedule deadlocks, or when a record's stored
// generation or a wait's generation is inconsistent with the owner's list.
std::vector<StepRef> enqueue_order(const Schedule& schedule);

}  // namespace dpb
