#include "train/step_timing.h"

#include <algorithm>
#include <map>
#include <stdexcept>

namespace dpb {

std::string bucket_span_name(int bucket) { return "allreduce[" + std::to_string(bucket) + "]"; }

StepTiming step_timing(std::span<const TimelineSpan> spans, int ranks, int buckets) {
  std::map<std::pair<std::string, int>, const TimelineSpan*> by;
  for (const auto& s : spans) by[{s.name, s.rank}] = &s;
  auto get = [&](const std::string& name, int rank) -> const TimelineSpan& {
    auto it = by.find({name, rank});
    if (it == by.end()) throw std::logic_error("step timing: span '" + name + "' missing on rank " + std::to_string(rank));
    return *it->second;
  };
  StepTiming t;
  t.bucket_ms.assign(static_cast<std::size_t>(buckets), 0.0);
  for (int r = 0; r < ranks; ++r) {
    const auto& fwd = get("forward", r);
    const auto& bwd = get("backward", r);
    const auto& wait = get("comm_wait", r);
    const auto& opt = get("optimizer", r);
    t.step_ms = std::max(t.step_ms, opt.end_ms);
    t.forward_ms = std::max(t.forward_ms, fwd.duration_ms());
    t.backward_ms = std::max(t.backward_ms, bwd.duration_ms());
    t.exposed_comm_ms = std::max(t.exposed_comm_ms, wait.duration_ms());
    t.optimizer_ms = std::max(t.optimizer_ms, opt.duration_ms());
    for (int b = 0; b < buckets; ++b) {
      const auto& ar = get(bucket_span_name(b), r);
      t.bucket_ms[static_cast<std::size_t>(b)] = std::max(t.bucket_ms[static_cast<std::size_t>(b)], ar.duration_ms());
      t.allreduce_ms += ar.duration_ms();
      const double lo = std::max(ar.start_ms, bwd.start_ms);
      const double hi = std::min(ar.end_ms, bwd.end_ms);
      if (hi > lo) t.allreduce_hidden_ms += hi - lo;
      if (ar.start_ms < bwd.end_ms) ++t.buckets_started_during_backward;
    }
  }
  return t;
}

}  // namespace dpb
