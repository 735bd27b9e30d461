#include "train/phase_range.h"

#include "device/cpu_backend.h"

namespace dpb {

PhaseRange::PhaseRange(std::span<Stream* const> streams, std::string name) {
  bool host_range = false;
  for (Stream* s : streams) {
    auto* cpu = dynamic_cast<CpuStream*>(s);
    if (!cpu) {
      host_range = true;
      continue;
    }
    auto holder = std::make_shared<std::optional<NvtxRange>>();
    cpu->enqueue([holder, name] { holder->emplace(name); });
    on_streams_.push_back({s, std::move(holder)});
  }
  if (host_range) host_.emplace(name);
}

void PhaseRange::end() {
  if (ended_) return;
  ended_ = true;
  for (auto& o : on_streams_) {
    // Only tasks own the holder from here on, so even a skipped task (poisoned stream) releases
    // the range on the worker thread that opened it.
    static_cast<CpuStream*>(o.stream)->enqueue([holder = std::move(o.holder)] { holder->reset(); });
  }
  host_.reset();
}

}  // namespace dpb
