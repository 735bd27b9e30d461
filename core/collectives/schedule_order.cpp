#include "collectives/schedule_order.h"

#include <sstream>
#include <string>

namespace dpb {

namespace {

std::string where(const Schedule& s, int rank, std::size_t index) {
  const Step& st = s.steps[static_cast<std::size_t>(rank)][index];
  std::ostringstream os;
  os << "rank " << rank << " step " << index << " (" << step_kind_name(st.kind) << " signal " << st.signal << " gen "
     << st.generation << ")";
  return os.str();
}

}  // namespace

std::vector<StepRef> enqueue_order(const Schedule& schedule) {
  const auto n = schedule.steps.size();
  const auto signals = static_cast<std::size_t>(schedule.signals());

  // waits_needed[sig][g]: how many waits bind to generation g of sig (g from 1).
  std::vector<std::vector<std::uint32_t>> waits_needed(signals);
  for (std::size_t r = 0; r < n; ++r) {
    for (std::size_t i = 0; i < schedule.steps[r].size(); ++i) {
      const Step& st = schedule.steps[r][i];
      if (st.kind != StepKind::record && st.kind != StepKind::wait) continue;
      if (st.signal < 0 || static_cast<std::size_t>(st.signal) >= signals) {
        throw ScheduleError("schedule: " + where(schedule, static_cast<int>(r), i) + " names no known signal");
      }
      const auto sig = static_cast<std::size_t>(st.signal);
      if (st.kind == StepKind::record && schedule.signal_owner[sig] != static_cast<int>(r)) {
        throw ScheduleError("schedule: " + where(schedule, static_cast<int>(r), i) + " records a signal owned by rank " +
                            std::to_string(schedule.signal_owner[sig]));
      }
      if (st.kind == StepKind::wait) {
        if (st.generation == 0) {
          throw ScheduleError("schedule: " + where(schedule, static_cast<int>(r), i) + " waits for generation 0");
        }
        auto& needed = waits_needed[sig];
        if (needed.size() <= st.generation) needed.resize(st.generation + 1, 0);
        ++needed[st.generation];
      }
    }
  }

  std::vector<std::uint32_t> recorded(signals, 0);

  std::vector<StepRef> order;
  order.reserve(schedule.total_steps());
  std::vector<std::size_t> pos(n, 0);
  std::size_t remaining = schedule.total_steps();
  while (remaining > 0) {
    bool progress = false;
    for (std::size_t r = 0; r < n; ++r) {
      const auto& list = schedule.steps[r];
      while (pos[r] < list.size()) {
        const Step& st = list[pos[r]];
        if (st.kind == StepKind::wait) {
          if (recorded[static_cast<std::size_t>(st.signal)] < st.generation) break;  // not recorded yet
        } else if (st.kind == StepKind::record) {
          const auto sig = static_cast<std::size_t>(st.signal);
          const std::uint32_t current = recorded[sig];
          if (st.generation != 0 && st.generation != current + 1) {
            throw ScheduleError("schedule: " + where(schedule, static_cast<int>(r), pos[r]) + " is record number " +
                                std::to_string(current + 1) + " of its signal");
          }
          recorded[sig] = current + 1;
        }
        order.push_back({static_cast<int>(r), static_cast<std::uint32_t>(pos[r])});
        ++pos[r];
        --remaining;
        progress = true;
      }
    }
    if (!progress) {
      std::string blocked;
      for (std::size_t r = 0; r < n; ++r) {
        if (pos[r] < schedule.steps[r].size()) {
          if (!blocked.empty()) blocked += "; ";
          blocked += where(schedule, static_cast<int>(r), pos[r]);
        }
      }
      throw ScheduleError("schedule " + schedule.algorithm + " deadlocks: no rank can advance; blocked at " + blocked);
    }
  }
  for (std::size_t s = 0; s < signals; ++s) {
    for (std::uint32_t g = 1; g < waits_needed[s].size(); ++g) {
      if (waits_needed[s][g] > 0 && recorded[s] < g) {
        throw ScheduleError("schedule: signal " + std::to_string(s) + " generation " + std::to_string(g) +
                            " is waited for but never recorded");
      }
    }
  }
  return order;
}

}  // namespace dpb
