#include "collectives/schedule_counts.h"

namespace dpb {

std::size_t ScheduleCounts::sent(int rank) const {
  std::size_t total = 0;
  for (int d = 0; d < ranks; ++d) total += link(rank, d);
  return total;
}

std::size_t ScheduleCounts::received(int rank) const {
  std::size_t total = 0;
  for (int s = 0; s < ranks; ++s) total += link(s, rank);
  return total;
}

std::size_t ScheduleCounts::total_bytes() const {
  std::size_t total = 0;
  for (std::size_t b : link_bytes) total += b;
  return total;
}

int ScheduleCounts::links_used() const {
  int used = 0;
  for (std::size_t b : link_bytes) used += b > 0 ? 1 : 0;
  return used;
}

ScheduleCounts count_schedule(const Schedule& schedule, std::size_t elem_bytes) {
  ScheduleCounts c;
  c.ranks = schedule.ranks();
  const auto n = static_cast<std::size_t>(c.ranks);
  c.link_bytes.assign(n * n, 0);
  c.link_messages.assign(n * n, 0);
  c.reduce_elems.assign(n, 0);
  c.local_copy_bytes.assign(n, 0);
  c.waits.assign(n, 0);
  c.scratch_bytes.assign(n, 0);
  for (std::size_t r = 0; r < n; ++r) {
    c.scratch_bytes[r] = schedule.scratch_elems[r] * elem_bytes;
    for (const Step& st : schedule.steps[r]) {
      switch (st.kind) {
        case StepKind::copy_peer: {
          const std::size_t i = r * n + static_cast<std::size_t>(st.peer);
          c.link_bytes[i] += st.count * elem_bytes;
          ++c.link_messages[i];
          break;
        }
        case StepKind::reduce: c.reduce_elems[r] += st.count; break;
        case StepKind::local_copy: c.local_copy_bytes[r] += st.count * elem_bytes; break;
        case StepKind::wait: ++c.waits[r]; break;
        case StepKind::record: break;
      }
    }
  }
  return c;
}

}  // namespace dpb
