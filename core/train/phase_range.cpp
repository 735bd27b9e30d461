#include "train/phase_range.h"

namespace dpb {

PhaseRange::PhaseRange(std::span<Stream* const> streams, std::string name) {
  bool host_range = false;
  for (Stream* s : streams) {
    if (auto range = s->open_range(name)) {
      on_streams_.push_back(std::move(range));
    } else {
      host_range = true;
    }
  }
  if (host_range) host_.emplace(name);
}

void PhaseRange::end() {
  on_streams_.clear();
  host_.reset();
}

}  // namespace dpb
