#include "train/train_repeats.h"

#include "sweep/repeats.h"

namespace dpb {

PointRecord merge_train_rounds(std::vector<PointRecord> rounds, TrainBench& bench, const TrainPointSpec& spec) {
  const std::size_t count = rounds.size();
  PointRecord rec = merge_rounds(std::move(rounds), {"step", "forward", "backward", "exposed_comm", "optimizer"});
  if (count < 2 || rec.status != PointStatus::ok) return rec;
  const double step_ms = rec.stats.at("step").median;
  if (auto it = rec.metrics.find("samples_per_s"); it != rec.metrics.end()) {
    it->second.value = step_ms > 0 ? std::optional<double>(spec.global_batch() / (step_ms / 1e3)) : std::nullopt;
  }
  if (spec.ranks() == 1) {
    bench.remember(rec.to_json());
  } else if (auto it = rec.metrics.find("scaling_efficiency"); it != rec.metrics.end()) {
    const auto t1 = bench.baseline_step_ms(spec);
    it->second.value = t1 && step_ms > 0 ? std::optional<double>(spec.scaling == Scaling::weak
                                                                     ? *t1 / step_ms
                                                                     : *t1 / (spec.ranks() * step_ms))
                                         : std::nullopt;
  }
  if (auto it = rec.metrics.find("overlap_fraction"); it != rec.metrics.end()) {
    it->second.description += " (last of " + std::to_string(count) + " rounds)";
  }
  return rec;
}

}  // namespace dpb
