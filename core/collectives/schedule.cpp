#include "collectives/schedule.h"

#include <algorithm>
#include <sstream>
#include <stdexcept>

namespace dpb {

std::string_view region_name(Region region) {
  switch (region) {
    case Region::input: return "input";
    case Region::output: return "output";
    case Region::scratch: return "scratch";
  }
  return "?";
}

std::string_view step_kind_name(StepKind kind) {
  switch (kind) {
    case StepKind::copy_peer: return "copy_peer";
    case StepKind::reduce: return "reduce";
    case StepKind::local_copy: return "local_copy";
    case StepKind::record: return "record";
    case StepKind::wait: return "wait";
  }
  return "?";
}

std::size_t Schedule::total_steps() const {
  std::size_t total = 0;
  for (const auto& list : steps) total += list.size();
  return total;
}

std::size_t Schedule::max_steps_per_rank() const {
  std::size_t most = 0;
  for (const auto& list : steps) most = std::max(most, list.size());
  return most;
}

std::vector<std::uint32_t> Schedule::records_per_call() const {
  std::vector<std::uint32_t> records(signal_owner.size(), 0);
  for (const auto& list : steps) {
    for (const Step& st : list) {
      if (st.kind == StepKind::record) ++records[static_cast<std::size_t>(st.signal)];
    }
  }
  return records;
}

Schedule build_schedule_within(std::string_view algorithm, ScheduleShape shape, std::size_t max_ops) {
  Schedule s = build_schedule(algorithm, shape);
  // Steps grow about linearly with the number of chunks, so scaling the chunk by steps / max_ops
  // lands near the bound; a few rounds settle the fixed per-call part.
  while (s.max_steps_per_rank() > max_ops) {
    const std::size_t steps = s.max_steps_per_rank();
    const std::size_t before = shape.chunk_elems;
    const std::size_t grown = before / max_ops * steps + (before % max_ops * steps + max_ops - 1) / max_ops;
    shape.chunk_elems = std::max(grown, before + 1);
    if (before >= std::max<std::size_t>(shape.count, 1)) {
      throw ScheduleError(std::string(algorithm) + " schedule: " + std::to_string(steps) + " operations on one stream at " +
                          std::to_string(shape.ranks) + " ranks even with one chunk (at most " +
                          std::to_string(max_ops) + ")");
    }
    s = build_schedule(algorithm, shape);
  }
  return s;
}

const std::vector<std::string>& schedule_algorithms() {
  static const std::vector<std::string> names{"ring", "tree", "direct"};
  return names;
}

Schedule build_schedule(std::string_view algorithm, const ScheduleShape& shape) {
  if (algorithm == "ring") return build_ring_schedule(shape);
  if (algorithm == "tree") return build_tree_schedule(shape);
  if (algorithm == "direct") return build_direct_schedule(shape);
  throw std::invalid_argument("unknown all-reduce schedule '" + std::string(algorithm) +
                              "' (expected ring, tree or direct)");
}

std::size_t shard_offset(std::size_t count, int ranks, int shard) {
  const auto n = static_cast<std::size_t>(ranks);
  const auto j = static_cast<std::size_t>(shard);
  const std::size_t base = count / n;
  const std::size_t extra = count % n;
  return j * base + (j < extra ? j : extra);
}

std::size_t shard_size(std::size_t count, int ranks, int shard) {
  const auto n = static_cast<std::size_t>(ranks);
  return count / n + (static_cast<std::size_t>(shard) < count % n ? 1 : 0);
}

std::string describe(const Schedule& schedule) {
  std::ostringstream os;
  const ScheduleShape& s = schedule.shape;
  os << schedule.algorithm << ": ranks=" << s.ranks << " count=" << s.count << " chunk=" << s.chunk_elems
     << " slots=" << s.slots << (s.in_place ? " in-place" : " out-of-place") << " signals=" << schedule.signals()
     << "\n";
  for (std::size_t r = 0; r < schedule.steps.size(); ++r) {
    os << "rank " << r << " (scratch " << schedule.scratch_elems[r] << " elements)\n";
    for (std::size_t i = 0; i < schedule.steps[r].size(); ++i) {
      const Step& st = schedule.steps[r][i];
      os << "  " << i << ": " << step_kind_name(st.kind);
      switch (st.kind) {
        case StepKind::copy_peer:
          os << " " << region_name(st.src.region) << "[" << st.src.offset << "] -> rank " << st.peer << " "
             << region_name(st.dst.region) << "[" << st.dst.offset << "] x" << st.count;
          break;
        case StepKind::reduce:
        case StepKind::local_copy:
          os << " " << region_name(st.dst.region) << "[" << st.dst.offset << "] <- " << region_name(st.src.region)
             << "[" << st.src.offset << "] x" << st.count;
          break;
        case StepKind::record:
        case StepKind::wait:
          os << " signal " << st.signal << " (owner " << schedule.signal_owner[static_cast<std::size_t>(st.signal)]
             << ") gen " << st.generation;
          break;
      }
      os << "\n";
    }
  }
  return os.str();
}

}  // namespace dpb
