// Summary statistics over one measured quantity's raw samples (times, bandwidths, ...).
//
// Shared by every command: `dpbench allreduce` summarizes per-call times in us, `dpbench train`
// per-step phase times in ms. A Stats value is what the results file stores as a `stats` object
// (scripts/dpbench_report/schema/dpbench-results.schema.json, $defs/stats): unit, the summary
// figures and the raw samples in measurement order, so scripts can recompute anything.
//
// Definitions (chosen to match numpy/scipy so scripts agree with the C++ to rounding):
// - stddev is the sample standard deviation (n-1 denominator); 0 for fewer than 2 samples;
// - percentiles interpolate linearly between order statistics (numpy's default "linear" method);
// - mean_ci95 is the 95% confidence interval of the mean from Student's t with n-1 degrees of
//   freedom (also written as ci95_low/ci95_high, the names of format version 1's first files);
// - median_ci95 is the distribution-free 95% confidence interval of the median from order
//   statistics: the closest pair x(l), x(n+1-l) whose binomial(n, 1/2) coverage is >= 95%
//   (needs n >= 6; with fewer samples no such pair exists and the interval is left out);
// - rel_stderr = (stddev / sqrt(n)) / |mean|: the "noise" the adaptive stopping rule watches.
// Figures that are undefined (CI and rel_stderr with < 2 samples, rel_stderr with mean 0) are
// empty optionals and are left out of the JSON rather than written as made-up numbers.
#pragma once
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace dpb {

// One repeat's summary when a point is measured in several interleaved rounds (--repeats).
struct RepeatSummary {
  int round = 0;  // 1-based
  double median = 0, mean = 0;
  std::size_t count = 0;
};

struct Stats {
  std::string unit;
  std::size_t count = 0;
  double median = 0, mean = 0, min = 0, max = 0, stddev = 0;
  double p10 = 0, p90 = 0;
  std::optional<double> ci95_low, ci95_high;  // of the mean
  std::optional<double> median_ci95_low, median_ci95_high;
  std::optional<double> rel_stderr;
  std::vector<double> samples;  // in measurement order (all rounds, round after round)
  std::vector<RepeatSummary> repeats;  // empty unless measured in rounds
};

// The order-statistic ranks (1-based) l and n+1-l of the median's 95% interval; empty for n < 6.
std::optional<std::pair<std::size_t, std::size_t>> median_ci95_ranks(std::size_t n);

// Summarizes the rounds' samples together, keeping a RepeatSummary per round.
Stats summarize_rounds(const std::vector<std::vector<double>>& rounds, std::string unit);

// Summarizes `samples` (in `unit`). An empty span gives count 0 and all figures 0, so a phase that
// never ran still serializes validly; callers that need samples should check count.
Stats summarize(std::span<const double> samples, std::string unit);

// Linear-interpolation percentile of already-sorted values, q in [0, 100].
double percentile_sorted(std::span<const double> sorted, double q);

// Two-sided 95% Student t critical value (t_{0.975, dof}); dof >= 1. Exact table for small dof,
// a Cornish-Fisher expansion beyond it (error < 1e-4).
double student_t95(std::size_t dof);

// The schema's `stats` object. Figures are rounded to `digits` significant digits to keep files
// readable (samples included); 0 keeps full double precision.
nlohmann::json to_json(const Stats& s, int digits = 9);

// Reads a `stats` object back (resume, tests). Throws std::invalid_argument on a malformed object.
Stats stats_from_json(const nlohmann::json& j);

}  // namespace dpb
