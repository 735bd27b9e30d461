// The sweep planner and runner shared by `dpbench allreduce` and `dpbench train`.
//
// A command expands its axes into SweepPoints (id + axes + a function that measures the point),
// in the order they should run (e.g. 1-rank points first for scaling efficiency, and points that
// share a communicator next to each other). Sweep::run then, for each point:
// - skips it when the results file already has its id (--resume);
// - runs it; an exception becomes a record with status "failed" and the exception text as the
//   reason (TimeoutError -> status "timeout"), and the sweep goes on;
// - appends the record to the results file atomically (when there is one) and hands it to the
//   `on_record` callback (the command's table printer).
// The outcome says how many points were ok/failed/timeout/skipped; commands exit non-zero when
// any point was not ok (a point with wrong elements is "failed", never hidden).
#pragma once
#include <cstddef>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "results/point_record.h"

namespace dpb {

class ResultsFile;

struct SweepPoint {
  std::string id;     // make_point_id(kind, ...)
  std::string kind;   // "allreduce", "train"
  std::string label;  // short text for progress lines
  nlohmann::json axes;
  // Measures the point; returns its record (status ok, or failed/... with reason). The runner
  // fills id/kind/axes/started_at/duration_s when the function leaves them empty.
  std::function<PointRecord()> run;
  // With SweepOptions::repeats > 1: merges the point's rounds (in round order) into its record
  // (sweep/repeats.h). Points without one keep their last round only.
  std::function<PointRecord(std::vector<PointRecord>)> merge;
};

// Checks a plan up front: non-empty, unique ids, every point has a run function. Throws
// std::invalid_argument (duplicate ids usually mean a list flag repeated a value).
void validate_plan(const std::vector<SweepPoint>& points);

struct SweepOutcome {
  std::size_t planned = 0;
  std::size_t already_done = 0;  // skipped because --resume found them
  std::size_t ok = 0, failed = 0, timeout = 0, skipped = 0;
  bool all_ok() const { return failed == 0 && timeout == 0; }
};

struct SweepOptions {
  ResultsFile* results = nullptr;  // null: nothing is written (no --out)
  std::ostream* progress = nullptr;  // null: no progress output
  bool progress_tty = false;
  // Called with each finished record (after it is safely on disk), e.g. to print a table row.
  std::function<void(const PointRecord&)> on_record;
  // Stop after the first point that is not ok (e.g. a timed-out point whose backend was aborted
  // and cannot run more work). Default: go on.
  std::function<bool(const PointRecord&)> stop_after;
  // Rounds per point (--repeats): every point is measured once per round, round-robin over the
  // plan; a point's record is written (and on_record called) after its last round, or as soon as
  // a round is not ok (it is not measured again).
  int repeats = 1;
};

// Runs the plan (validate_plan first). Marks the results file complete when every point has a
// record (and always finishes it, so a run that stopped early still keeps its records).
// Exceptions from writing the results file propagate (a full disk must not be ignored).
SweepOutcome run_sweep(const std::vector<SweepPoint>& points, const SweepOptions& options);

}  // namespace dpb
