#include "sweep/repeats.h"

#include <stdexcept>

namespace dpb {

PointRecord merge_rounds(std::vector<PointRecord> rounds, const std::string& stat) {
  return merge_rounds(std::move(rounds), std::vector<std::string>{stat});
}

PointRecord merge_rounds(std::vector<PointRecord> rounds, const std::vector<std::string>& stats) {
  if (rounds.empty()) throw std::invalid_argument("merge_rounds: no rounds");
  if (stats.empty()) throw std::invalid_argument("merge_rounds: no statistic to merge");
  if (rounds.size() == 1) return std::move(rounds.front());
  PointRecord merged = rounds.back();
  std::vector<std::vector<std::vector<double>>> samples(stats.size());
  double duration = 0;
  bool bad = false;
  nlohmann::json check;
  for (std::size_t i = 0; i < rounds.size(); ++i) {
    const PointRecord& r = rounds[i];
    duration += r.duration_s;
    for (std::size_t k = 0; k < stats.size(); ++k) {
      if (auto it = r.stats.find(stats[k]); it != r.stats.end()) samples[k].push_back(it->second.samples);
    }
    if (r.status != PointStatus::ok && !bad) {
      bad = true;
      merged.set_status(r.status,
                        r.reason.value_or("no reason given") + " (in round " + std::to_string(i + 1) + ")");
    }
    if (r.check) {
      if (check.is_null()) {
        check = *r.check;
      } else {
        for (const char* key : {"wrong_elements", "checked_elements"}) {
          if (check.contains(key) && r.check->contains(key)) {
            check[key] = check[key].get<std::size_t>() + (*r.check)[key].get<std::size_t>();
          }
        }
        if (r.check->value("send_buffers_unchanged", true) == false) check["send_buffers_unchanged"] = false;
      }
    }
  }
  for (std::size_t k = 0; k < stats.size(); ++k) {
    if (samples[k].empty()) continue;
    const std::string unit = merged.stats.count(stats[k]) ? merged.stats[stats[k]].unit : std::string();
    merged.stats[stats[k]] = summarize_rounds(samples[k], unit);
  }
  const std::string& stat = stats.front();
  merged.started_at = rounds.front().started_at;
  merged.duration_s = duration;
  if (!check.is_null()) merged.check = check;
  if (merged.stopping) {
    (*merged.stopping)["iters"] = merged.stats[stat].count;
    (*merged.stopping)["rounds"] = rounds.size();
  }
  return merged;
}

}  // namespace dpb
