#include "world/world_measure.h"

#include <string>

namespace dpb {
namespace {

// What rank 0 broadcasts before each iteration: the kind, then the iteration's index.
constexpr char kStop = 's', kWarmup = 'w', kMeasured = 'm';

}  // namespace

Measurement measure_in_world(World& world, const StoppingOptions& options, const IterationFn& iteration) {
  if (world.rank() == 0) {
    Measurement m = measure(options, [&](const IterationInfo& it) {
      std::string next = (it.warmup ? kWarmup : kMeasured) + std::to_string(it.index);
      world.broadcast(next, 0);
      return iteration(it);
    });
    std::string stop(1, kStop);
    world.broadcast(stop, 0);
    return m;
  }
  for (;;) {
    std::string next;
    world.broadcast(next, 0);
    if (next.empty() || next[0] == kStop) break;
    iteration(IterationInfo{std::stoi(next.substr(1)), next[0] == kWarmup});
  }
  return {};
}

}  // namespace dpb
