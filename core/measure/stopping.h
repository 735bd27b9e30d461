// The adaptive measurement loop shared by `dpbench allreduce` and `dpbench train`.
//
// A point is measured as: `warmup_iters` untimed iterations (in adaptive mode fewer when warm-up
// alone has taken max_time_s: a huge message warms up in one or two calls; with fixed_iters the
// warm-up count is exact, so runs are step-for-step reproducible), then timed iterations until a
// stopping rule fires (checked after every sample, in this order):
//   fixed_iters  --iters K was given: exactly K samples, no other rule applies;
//   noise        at least min_iters samples and the relative standard error of the mean is at or
//                below max_noise (nvbench's criterion: stop once the mean is known well enough);
//   max_iters    max_iters samples were taken;
//   time_cap     the measurement phase (wall clock, warm-up excluded) has run max_time_s seconds
//                and at least min_iters samples exist... unless min_iters cannot be reached, see below.
// The time cap bounds a point's cost when the noise never settles (CPU threads, tiny messages).
// min_iters wins over the time cap so every point has a minimum sample count, except that a
// single iteration slower than max_time_s/2 would make the point take min_iters times longer than
// asked: the cap then stops it once it has 2 samples (or 1 when one sample already took the whole
// cap) so a huge message never silently takes minutes. The rule that fired is reported (schema
// `stopping.rule`), so a reader can tell a converged point from a capped one.
//
// Nothing is cut silently: whenever fewer warm-up or timed iterations ran than asked for, the
// measurement says why (Measurement::shortfall, schema `stopping.shortfall`), and commands print
// it. A minimum or warm-up count the user asked for explicitly (`min_iters_exact`,
// `warmup_exact`) is honoured whatever it costs: only defaults give way to the time cap.
//
// Samples come from the caller: the iteration function runs one iteration and returns its time as
// measured by device events (Event::elapsed_ms_since), in whatever unit the caller stores. The
// loop never times anything itself except the wall clock used for the cap.
#pragma once
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace dpb {

struct StoppingOptions {
  int warmup_iters = 3;
  int min_iters = 5;
  int max_iters = 1000;      // also bounds the raw samples stored per point
  double max_noise = 0.01;   // relative standard error as a FRACTION (CLI --max-noise is percent)
  double max_time_s = 0.25;  // wall-clock cap on the timed phase (and on warm-up) of one point
  std::optional<int> fixed_iters;  // --iters K: exactly K timed iterations
  bool min_iters_exact = false;    // min_iters was asked for: never stop below it
  bool warmup_exact = false;       // warmup_iters was asked for: never cut the warm-up

  // Throws std::invalid_argument naming the CLI flag (--warmup, --min-iters, --max-iters,
  // --max-noise, --max-time, --iters) when a value is out of range.
  void validate() const;
};

enum class StopRule { noise, time_cap, max_iters, fixed_iters };

// "noise", "time_cap", "max_iters", "fixed_iters": the schema's stopping.rule values.
std::string_view stop_rule_name(StopRule rule);

// What one iteration call is told.
struct IterationInfo {
  int index = 0;        // 0-based within its phase
  bool warmup = false;  // the sample of a warm-up iteration is discarded
};

// Runs one iteration and returns its measured value (e.g. ms from device events). May throw; the
// exception propagates out of measure() (the sweep records the point as failed).
using IterationFn = std::function<double(const IterationInfo&)>;

struct Measurement {
  std::vector<double> samples;  // timed iterations only, in order
  StopRule rule = StopRule::fixed_iters;
  int warmup_iters = 0;  // warm-up iterations actually run
  std::optional<double> achieved_noise;  // relative standard error when the loop stopped
  double wall_s = 0;  // wall time of the timed phase
  // Why fewer warm-up or timed iterations ran than asked for; empty when none were cut.
  std::optional<std::string> shortfall;
};

Measurement measure(const StoppingOptions& options, const IterationFn& iteration);

// The schema's `stopping` object: rule, warmup_iters, max_noise (fraction), achieved_noise
// (fraction; absent when undefined), time_cap_s, plus min_iters/max_iters/iters for the record,
// warmup_requested, and shortfall (the reason for fewer iterations) when there is one.
nlohmann::json stopping_to_json(const StoppingOptions& options, const Measurement& m);

}  // namespace dpb
