// A sequential execution order of a schedule's steps, and with it the proof that the schedule
// cannot deadlock.
//
// Ranks enqueue their own steps independently (a wait names the value it needs, so no host order
// is required); this order is what one sequential run of all ranks would do: round-robin over
// ranks, advancing each until it reaches a wait whose generation has not been recorded yet. If no
// rank can advance, no execution can (waits are monotone), and the schedule is refused with
// ScheduleError. Tests execute schedules symbolically in this order.
#pragma once
#include <cstdint>
#include <vector>

#include "collectives/schedule.h"

namespace dpb {

struct StepRef {
  int rank = 0;
  std::uint32_t index = 0;  // into schedule.steps[rank]
};

// Every step of `schedule` exactly once, in an order where every wait comes after the record of
// its generation. Throws ScheduleError naming the blocked steps when the schedule deadlocks, or
// when a record's stored generation or a wait's generation is inconsistent with the owner's list.
std::vector<StepRef> enqueue_order(const Schedule& schedule);

}  // namespace dpb
