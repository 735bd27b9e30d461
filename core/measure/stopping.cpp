#include "measure/stopping.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <string>

#include "device/error.h"

namespace dpb {

void StoppingOptions::validate() const {
  if (warmup_iters < 0) throw SettingError("stopping.warmup", "must be >= 0, got " + std::to_string(warmup_iters));
  if (min_iters < 1) throw SettingError("stopping.min_iters", "must be >= 1, got " + std::to_string(min_iters));
  if (max_iters < 1) throw SettingError("stopping.max_iters", "must be >= 1, got " + std::to_string(max_iters));
  if (max_iters < min_iters) {
    throw SettingError("stopping.max_iters", std::to_string(max_iters) + " is below {stopping.min_iters} " +
                                                 std::to_string(min_iters));
  }
  if (!(max_noise > 0) || !std::isfinite(max_noise)) {
    throw SettingError("stopping.max_noise_pct", "must be a positive percentage");
  }
  if (!(max_time_s > 0) || !std::isfinite(max_time_s)) {
    throw SettingError("stopping.max_time_s", "must be a positive number of seconds");
  }
  if (fixed_iters && *fixed_iters < 1) {
    throw SettingError("stopping.iters", "must be >= 1, got " + std::to_string(*fixed_iters));
  }
}

std::string_view stop_rule_name(StopRule rule) {
  switch (rule) {
    case StopRule::noise: return "noise";
    case StopRule::time_cap: return "time_cap";
    case StopRule::max_iters: return "max_iters";
    case StopRule::fixed_iters: return "fixed_iters";
  }
  return "unknown";
}

namespace {

// Running mean/variance (Welford) so checking the noise after every sample stays O(1).
class RunningStats {
 public:
  void add(double x) {
    ++n_;
    const double d = x - mean_;
    mean_ += d / static_cast<double>(n_);
    m2_ += d * (x - mean_);
  }
  std::optional<double> rel_stderr() const {
    if (n_ < 2 || mean_ == 0) return std::nullopt;
    const double var = m2_ / static_cast<double>(n_ - 1);
    return std::sqrt(var / static_cast<double>(n_)) / std::fabs(mean_);
  }

 private:
  std::size_t n_ = 0;
  double mean_ = 0, m2_ = 0;
};

}  // namespace

Measurement measure(const StoppingOptions& options, const IterationFn& iteration) {
  options.validate();
  Measurement m;
  using clock = std::chrono::steady_clock;
  const auto warmup_start = clock::now();
  for (int i = 0; i < options.warmup_iters; ++i) {
    iteration(IterationInfo{i, true});
    m.warmup_iters = i + 1;
    // With --iters the counts are exact (train relies on it: same steps, same weights).
    if (!options.fixed_iters && !options.warmup_exact &&
        std::chrono::duration<double>(clock::now() - warmup_start).count() >= options.max_time_s) {
      break;
    }
  }
  const double warmup_s = std::chrono::duration<double>(clock::now() - warmup_start).count();
  std::string shortfall;
  auto seconds = [](double s) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3g s", s);
    return std::string(buf);
  };
  if (m.warmup_iters < options.warmup_iters) {
    shortfall = "warm-up " + std::to_string(m.warmup_iters) + " of " + std::to_string(options.warmup_iters) +
                " iterations: they took " + seconds(warmup_s) + ", past the time cap of " +
                seconds(options.max_time_s);
  }

  const auto start = clock::now();
  auto elapsed_s = [&] { return std::chrono::duration<double>(clock::now() - start).count(); };
  RunningStats running;
  const bool fixed = options.fixed_iters.has_value();
  const int limit = fixed ? *options.fixed_iters : options.max_iters;
  const auto min_iters = static_cast<std::size_t>(options.min_iters);

  for (int i = 0;; ++i) {
    const double sample = iteration(IterationInfo{i, false});
    m.samples.push_back(sample);
    running.add(sample);
    const std::size_t n = m.samples.size();
    if (fixed) {
      if (static_cast<int>(n) >= limit) {
        m.rule = StopRule::fixed_iters;
        break;
      }
      continue;
    }
    const auto noise = running.rel_stderr();
    if (n >= min_iters && noise && *noise <= options.max_noise) {
      m.rule = StopRule::noise;
      break;
    }
    if (static_cast<int>(n) >= limit) {
      m.rule = StopRule::max_iters;
      break;
    }
    const double t = elapsed_s();
    if (t >= options.max_time_s) {
      // min_iters normally wins over the cap; but when iterations are so slow that reaching
      // min_iters would take far longer than the cap, stop at 2 samples (1 if one filled the cap).
      const double per_iter = t / static_cast<double>(n);
      const bool slow = per_iter > options.max_time_s / 2;
      const bool give_way = slow && !options.min_iters_exact && (n >= 2 || per_iter >= options.max_time_s);
      if (n >= min_iters || give_way) {
        m.rule = StopRule::time_cap;
        if (n < min_iters) {
          shortfall += std::string(shortfall.empty() ? "" : "; ") + std::to_string(n) + " of min " +
                       std::to_string(min_iters) + " timed iterations: each took " + seconds(per_iter) +
                       ", over half the time cap of " + seconds(options.max_time_s) +
                       " (ask for the minimum explicitly to have it honoured)";
        }
        break;
      }
    }
  }
  m.wall_s = elapsed_s();
  m.achieved_noise = running.rel_stderr();
  if (!shortfall.empty()) m.shortfall = shortfall;
  return m;
}

nlohmann::json stopping_to_json(const StoppingOptions& options, const Measurement& m) {
  nlohmann::json j = {{"rule", stop_rule_name(m.rule)},
                      {"warmup_iters", m.warmup_iters},
                      {"max_noise", options.max_noise},
                      {"time_cap_s", options.max_time_s},
                      {"min_iters", options.min_iters},
                      {"max_iters", options.max_iters},
                      {"iters", m.samples.size()},
                      {"measure_wall_s", m.wall_s}};
  if (options.fixed_iters) j["fixed_iters"] = *options.fixed_iters;
  if (m.achieved_noise) j["achieved_noise"] = *m.achieved_noise;
  j["warmup_requested"] = options.warmup_iters;
  if (m.shortfall) j["shortfall"] = *m.shortfall;
  return j;
}

}  // namespace dpb
