#include "sweep/allreduce_metrics.h"

#include "sweep/allreduce_point.h"
#include "sweep/repeats.h"

namespace dpb {

void set_allreduce_bandwidth(PointRecord& rec, std::size_t bytes, int ranks) {
  const auto it = rec.stats.find("time");
  const double median_us = it != rec.stats.end() ? it->second.median : 0.0;
  const std::optional<double> algbw =
      median_us > 0 ? std::optional<double>(static_cast<double>(bytes) / (median_us * 1e-6) / 1e9) : std::nullopt;
  rec.metrics["algbw"] = Metric{algbw, "GB/s", "bytes / median time (GB = 1e9 bytes)", "derived"};
  const std::optional<double> busbw =
      ranks > 1 && algbw ? std::optional<double>(*algbw * allreduce_busbw_factor(ranks)) : std::nullopt;
  rec.metrics["busbw"] =
      Metric{busbw, "GB/s", ranks > 1 ? "algbw x 2(n-1)/n" : "none for one rank (no data moves between ranks)",
             "derived"};
}

PointRecord merge_allreduce_rounds(std::vector<PointRecord> rounds) {
  PointRecord rec = merge_rounds(std::move(rounds), "time");
  set_allreduce_bandwidth(rec, rec.axes.value("bytes", std::size_t{0}), rec.axes.value("ranks", 0));
  return rec;
}

}  // namespace dpb
