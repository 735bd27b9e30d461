#include "collectives/schedule_executor.h"

#include <stdexcept>
#include <string>
#include <utility>


namespace dpb {

PreparedSchedule::PreparedSchedule(Backend& backend, Schedule schedule, const std::vector<int>& devices)
    : PreparedSchedule(backend, std::move(schedule), devices, nullptr) {}

PreparedSchedule::PreparedSchedule(Backend& backend, Schedule schedule, const std::vector<int>& devices,
                                   std::unique_ptr<SignalSet> signals)
    : schedule_(std::move(schedule)), devices_(devices) {
  if (static_cast<int>(devices_.size()) != schedule_.ranks()) {
    throw std::invalid_argument("PreparedSchedule: " + std::to_string(devices_.size()) + " devices for a " +
                                std::to_string(schedule_.ranks()) + "-rank schedule");
  }
  order_ = enqueue_order(schedule_);  // throws ScheduleError if no execution can finish
  records_per_call_ = schedule_.records_per_call();
  if (!signals) {
    signals = backend.make_signals(records_per_call_.size());
  } else if (signals->size() < records_per_call_.size()) {
    throw std::invalid_argument("PreparedSchedule: " + std::to_string(signals->size()) + " signal slots for a schedule of " +
                                std::to_string(records_per_call_.size()) + " signals");
  }
  signals_ = std::move(signals);
}

void PreparedSchedule::enqueue_rank(int rank, std::uint64_t call, DType type, std::span<const RankMemory> memory,
                                    Stream& stream) const {
  for (const Step& st : schedule_.steps[static_cast<std::size_t>(rank)]) enqueue_step(rank, st, call, type, memory, stream);
}

void PreparedSchedule::enqueue(std::uint64_t call, DType type, std::span<const RankMemory> memory,
                               std::span<Stream* const> streams) const {
  for (const StepRef& ref : order_) {
    enqueue_step(ref.rank, schedule_.steps[static_cast<std::size_t>(ref.rank)][ref.index], call, type, memory,
                 *streams[static_cast<std::size_t>(ref.rank)]);
  }
}

void PreparedSchedule::enqueue_step(int rank, const Step& st, std::uint64_t call, DType type,
                                    std::span<const RankMemory> memory, Stream& stream) const {
  const std::size_t elem = dtype_size(type);
  const auto address = [&](int owner, Location loc) -> char* {
    const RankMemory& m = memory[static_cast<std::size_t>(owner)];
    void* base = nullptr;
    switch (loc.region) {
      // The schedule only ever reads the input region (tests check it), so dropping const is safe.
      case Region::input: base = const_cast<void*>(m.input); break;
      case Region::output: base = m.output; break;
      case Region::scratch: base = m.scratch; break;
    }
    return static_cast<char*>(base) + loc.offset * elem;
  };
  const auto value = [&] { return call * records_per_call_[static_cast<std::size_t>(st.signal)] + st.generation; };
  const int device = devices_[static_cast<std::size_t>(rank)];
  switch (st.kind) {
    case StepKind::copy_peer:
      stream.copy_peer(address(st.peer, st.dst), devices_[static_cast<std::size_t>(st.peer)], address(rank, st.src),
                       device, st.count * elem);
      break;
    case StepKind::reduce: stream.reduce_add(type, address(rank, st.dst), address(rank, st.src), st.count); break;
    case StepKind::local_copy: stream.copy(address(rank, st.dst), address(rank, st.src), st.count * elem); break;
    case StepKind::record: stream.write_signal(*signals_, static_cast<std::size_t>(st.signal), value()); break;
    case StepKind::wait: stream.wait_signal(*signals_, static_cast<std::size_t>(st.signal), value()); break;
  }
}

}  // namespace dpb
