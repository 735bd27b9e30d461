// A train point in three steps (as nvbench runs a benchmark: measure, then summarise): the
// measured steps' raw samples (TrainSamples, filled by TrainBench), then the record built from
// them (fill_train_record; core/train/train_point.h lists the record's layout). Printers and
// summaries read records only.
#pragma once
#include <cstdint>
#include <optional>
#include <vector>

#include "measure/stopping.h"
#include "measure/timeline.h"
#include "results/point_record.h"
#include "train/convergence.h"
#include "train/step_timing.h"
#include "train/train_point.h"
#include "train/trainer.h"
#include "train/weights.h"

namespace dpb {

// What one point's measured steps produced, before any record is built.
struct TrainSamples {
  Measurement measurement;  // step times (ms): the slowest rank's per step
  std::vector<StepTiming> timings;
  std::vector<double> losses;   // mean loss over the global batch, per measured step
  std::vector<double> host_ms;  // host enqueue time per measured step (slowest rank)
  // A process per rank: each rank's own step time (its last span's end from its own origin), per
  // measured step, by rank. Empty in one process (every rank shares rank 0's time origin there).
  std::vector<std::vector<double>> rank_step_ms;
  std::vector<TimelineSpan> last_spans;  // every rank's spans of the last measured step
  std::int64_t measured_skips = 0;       // fp16 loss-scaler skips among the measured steps
  std::int64_t measured_calls = 0;       // bucket all-reduces rank 0 issued in the measured steps
};

// Everything a train record is built from.
struct TrainRecordInputs {
  const TrainPointSpec& spec;
  const Trainer& trainer;
  const TrainSamples& samples;
  const ReplicaCheck& check;
  const WeightsFingerprint& weights;  // the final fp32 master weights (rank 0's, or this rank's when identical)
  const std::optional<ConvergenceResult>& convergence;
  std::optional<double> baseline_step_ms;  // the 1-rank point of the same config
  Launch launch;
  std::size_t ops_per_stream;  // the most one bucket's all-reduce puts on a stream
  const CommunicatorOptions& communicator;  // p2p: what each bucket's schedule is built with
};

// Fills stats, metrics, more.{buckets, timeline, extra} and the status of `rec` (id, kind and axes
// already set).
void fill_train_record(PointRecord& rec, const TrainRecordInputs& in);

}  // namespace dpb
