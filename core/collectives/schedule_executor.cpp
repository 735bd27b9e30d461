#include "collectives/schedule_executor.h"

#include <stdexcept>
#include <string>
#include <utility>

namespace dpb {

PreparedSchedule::PreparedSchedule(Backend& backend, Schedule schedule, const std::vector<int>& devices)
    : schedule_(std::move(schedule)), devices_(devices) {
  if (static_cast<int>(devices_.size()) != schedule_.ranks()) {
    throw std::invalid_argument("PreparedSchedule: " + std::to_string(devices_.size()) + " devices for a " +
                                std::to_string(schedule_.ranks()) + "-rank schedule");
  }
  order_ = enqueue_order(schedule_);
  events_.reserve(schedule_.signal_owner.size());
  for (int owner : schedule_.signal_owner) {
    events_.push_back(backend.make_event(devices_[static_cast<std::size_t>(owner)], /*timing=*/false));
  }
}

void PreparedSchedule::enqueue(DType type, std::span<const RankMemory> memory, std::span<Stream* const> streams) const {
  const std::size_t elem = dtype_size(type);
  const auto address = [&](int rank, Location loc) -> char* {
    const RankMemory& m = memory[static_cast<std::size_t>(rank)];
    void* base = nullptr;
    switch (loc.region) {
      // The schedule only ever reads the input region (tests check it), so dropping const is safe.
      case Region::input: base = const_cast<void*>(m.input); break;
      case Region::output: base = m.output; break;
      case Region::scratch: base = m.scratch; break;
    }
    return static_cast<char*>(base) + loc.offset * elem;
  };
  for (const StepRef& ref : order_) {
    const Step& st = schedule_.steps[static_cast<std::size_t>(ref.rank)][ref.index];
    Stream& stream = *streams[static_cast<std::size_t>(ref.rank)];
    switch (st.kind) {
      case StepKind::copy_peer:
        stream.copy_peer(address(st.peer, st.dst), devices_[static_cast<std::size_t>(st.peer)],
                         address(ref.rank, st.src), devices_[static_cast<std::size_t>(ref.rank)], st.count * elem);
        break;
      case StepKind::reduce:
        stream.reduce_add(type, address(ref.rank, st.dst), address(ref.rank, st.src), st.count);
        break;
      case StepKind::local_copy:
        stream.copy(address(ref.rank, st.dst), address(ref.rank, st.src), st.count * elem);
        break;
      case StepKind::record: stream.record(*events_[static_cast<std::size_t>(st.signal)]); break;
      case StepKind::wait: stream.wait(*events_[static_cast<std::size_t>(st.signal)]); break;
    }
  }
}

}  // namespace dpb
