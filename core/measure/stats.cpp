#include "measure/stats.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

namespace dpb {

namespace {

// t_{0.975, dof} for dof = 1..30 (scipy.stats.t.ppf(0.975, dof)).
constexpr double kT95[] = {12.7062047362, 4.3026527297, 3.1824463053, 2.7764451052, 2.5705818356,
                           2.4469118511,  2.3646242516, 2.3060041352, 2.2621571628, 2.2281388520,
                           2.2009851601,  2.1788128297, 2.1603686565, 2.1447866879, 2.1314495456,
                           2.1199052992,  2.1098155778, 2.1009220402, 2.0930240544, 2.0859634473,
                           2.0796138447,  2.0738730679, 2.0686576104, 2.0638985616, 2.0595385528,
                           2.0555294386,  2.0518305165, 2.0484071418, 2.0452296421, 2.0422724563};

double round_significant(double v, int digits) {
  if (digits <= 0 || v == 0 || !std::isfinite(v)) return v;
  const double magnitude = std::ceil(std::log10(std::fabs(v)));
  const double scale = std::pow(10.0, digits - magnitude);
  const double r = std::round(v * scale) / scale;
  return std::isfinite(r) ? r : v;
}

double mean_of(std::span<const double> x) {
  return std::accumulate(x.begin(), x.end(), 0.0) / static_cast<double>(x.size());
}

double stddev_of(std::span<const double> x, double mean) {
  if (x.size() < 2) return 0;
  double ss = 0;
  for (double v : x) ss += (v - mean) * (v - mean);
  return std::sqrt(ss / static_cast<double>(x.size() - 1));
}

}  // namespace

double student_t95(std::size_t dof) {
  if (dof == 0) throw std::invalid_argument("student_t95: degrees of freedom must be >= 1");
  if (dof <= std::size(kT95)) return kT95[dof - 1];
  // Cornish-Fisher expansion of the t quantile around the normal one; |error| < 3e-8 for dof > 30.
  const double z = 1.959963984540054, v = static_cast<double>(dof);
  const double z3 = z * z * z, z5 = z3 * z * z, z7 = z5 * z * z, z9 = z7 * z * z;
  return z + (z3 + z) / (4 * v) + (5 * z5 + 16 * z3 + 3 * z) / (96 * v * v) +
         (3 * z7 + 19 * z5 + 17 * z3 - 15 * z) / (384 * v * v * v) +
         (79 * z9 + 776 * z7 + 1482 * z5 - 1920 * z3 - 945 * z) / (92160 * v * v * v * v);
}

double percentile_sorted(std::span<const double> sorted, double q) {
  if (sorted.empty()) throw std::invalid_argument("percentile of no samples");
  if (!(q >= 0 && q <= 100)) throw std::invalid_argument("percentile must be in [0, 100]");
  const double pos = q / 100.0 * static_cast<double>(sorted.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(pos));
  const std::size_t hi = std::min(lo + 1, sorted.size() - 1);
  const double frac = pos - static_cast<double>(lo);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * frac;
}

std::optional<std::pair<std::size_t, std::size_t>> median_ci95_ranks(std::size_t n) {
  // P(B <= k) for B ~ binomial(n, 1/2), summed in log space so large n stays finite. The interval
  // [x(l), x(n+1-l)] covers the median with probability 1 - 2 P(B <= l-1); take the largest l
  // whose coverage is still >= 95%.
  if (n < 6) return std::nullopt;
  const double log_half_n = static_cast<double>(n) * std::log(0.5);
  double cdf = 0;
  std::size_t l = 0;
  for (std::size_t k = 0; k <= n / 2; ++k) {
    const double log_pmf = std::lgamma(static_cast<double>(n) + 1) - std::lgamma(static_cast<double>(k) + 1) -
                           std::lgamma(static_cast<double>(n - k) + 1) + log_half_n;
    cdf += std::exp(log_pmf);  // P(B <= k)
    if (2 * cdf > 0.05) break;
    l = k + 1;  // [x(k+1), x(n-k)] has coverage 1 - 2 P(B <= k) >= 95%
  }
  if (l == 0) return std::nullopt;
  return std::make_pair(l, n + 1 - l);
}

Stats summarize_rounds(const std::vector<std::vector<double>>& rounds, std::string unit) {
  std::vector<double> all;
  for (const auto& r : rounds) all.insert(all.end(), r.begin(), r.end());
  Stats s = summarize(all, std::move(unit));
  for (std::size_t i = 0; i < rounds.size(); ++i) {
    const Stats one = summarize(rounds[i], s.unit);
    s.repeats.push_back(RepeatSummary{static_cast<int>(i) + 1, one.median, one.mean, one.count});
  }
  return s;
}

Stats summarize(std::span<const double> samples, std::string unit) {
  Stats s;
  s.unit = std::move(unit);
  s.count = samples.size();
  s.samples.assign(samples.begin(), samples.end());
  if (samples.empty()) return s;
  for (double v : samples) {
    if (!std::isfinite(v)) throw std::invalid_argument("summarize: a sample is not a finite number");
  }
  std::vector<double> sorted(samples.begin(), samples.end());
  std::sort(sorted.begin(), sorted.end());
  s.min = sorted.front();
  s.max = sorted.back();
  s.median = percentile_sorted(sorted, 50);
  s.p10 = percentile_sorted(sorted, 10);
  s.p90 = percentile_sorted(sorted, 90);
  s.mean = mean_of(samples);
  s.stddev = stddev_of(samples, s.mean);
  if (s.count >= 2) {
    const double se = s.stddev / std::sqrt(static_cast<double>(s.count));
    const double half = student_t95(s.count - 1) * se;
    s.ci95_low = s.mean - half;
    s.ci95_high = s.mean + half;
    if (s.mean != 0) s.rel_stderr = se / std::fabs(s.mean);
  }
  if (const auto ranks = median_ci95_ranks(s.count)) {
    s.median_ci95_low = sorted[ranks->first - 1];
    s.median_ci95_high = sorted[ranks->second - 1];
  }
  return s;
}

nlohmann::json to_json(const Stats& s, int digits) {
  auto r = [digits](double v) { return round_significant(v, digits); };
  nlohmann::json j = {{"unit", s.unit},      {"count", s.count},       {"median", r(s.median)},
                      {"mean", r(s.mean)},   {"min", r(s.min)},        {"max", r(s.max)},
                      {"stddev", r(s.stddev)}, {"p10", r(s.p10)},      {"p90", r(s.p90)}};
  if (s.ci95_low) j["ci95_low"] = j["mean_ci95_low"] = r(*s.ci95_low);
  if (s.ci95_high) j["ci95_high"] = j["mean_ci95_high"] = r(*s.ci95_high);
  if (s.median_ci95_low) j["median_ci95_low"] = r(*s.median_ci95_low);
  if (s.median_ci95_high) j["median_ci95_high"] = r(*s.median_ci95_high);
  if (!s.repeats.empty()) {
    nlohmann::json reps = nlohmann::json::array();
    for (const auto& rep : s.repeats) {
      reps.push_back({{"round", rep.round}, {"median", r(rep.median)}, {"mean", r(rep.mean)}, {"count", rep.count}});
    }
    j["repeats"] = std::move(reps);
  }
  if (s.rel_stderr) j["rel_stderr"] = r(*s.rel_stderr);
  nlohmann::json samples = nlohmann::json::array();
  for (double v : s.samples) samples.push_back(r(v));
  j["samples"] = std::move(samples);
  return j;
}

Stats stats_from_json(const nlohmann::json& j) {
  try {
    Stats s;
    s.unit = j.at("unit").get<std::string>();
    s.count = j.at("count").get<std::size_t>();
    s.median = j.at("median").get<double>();
    s.mean = j.at("mean").get<double>();
    s.min = j.at("min").get<double>();
    s.max = j.at("max").get<double>();
    s.stddev = j.at("stddev").get<double>();
    s.p10 = j.value("p10", 0.0);
    s.p90 = j.value("p90", 0.0);
    if (j.contains("ci95_low")) s.ci95_low = j["ci95_low"].get<double>();
    if (j.contains("ci95_high")) s.ci95_high = j["ci95_high"].get<double>();
    if (j.contains("mean_ci95_low")) s.ci95_low = j["mean_ci95_low"].get<double>();
    if (j.contains("mean_ci95_high")) s.ci95_high = j["mean_ci95_high"].get<double>();
    if (j.contains("median_ci95_low")) s.median_ci95_low = j["median_ci95_low"].get<double>();
    if (j.contains("median_ci95_high")) s.median_ci95_high = j["median_ci95_high"].get<double>();
    for (const auto& rep : j.value("repeats", nlohmann::json::array())) {
      s.repeats.push_back(RepeatSummary{rep.at("round").get<int>(), rep.at("median").get<double>(),
                                        rep.at("mean").get<double>(), rep.at("count").get<std::size_t>()});
    }
    if (j.contains("rel_stderr")) s.rel_stderr = j["rel_stderr"].get<double>();
    s.samples = j.at("samples").get<std::vector<double>>();
    return s;
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument(std::string("malformed stats object: ") + e.what());
  }
}

}  // namespace dpb
