// `dpbench train --repeats R`: merging one training point's interleaved rounds (sweep/repeats.h).
// The step and phase statistics hold every round's samples with a summary per round; throughput
// and scaling efficiency are re-derived from the merged step median (the efficiency against the
// merged 1-rank point, which the plan runs first in every round). Figures of one training run
// (losses, weights, overlap, buckets) are the last round's: every round trains the same steps
// from the same seed.
#pragma once
#include <vector>

#include "results/point_record.h"
#include "train/train_point.h"

namespace dpb {

// Merges the rounds and, for a 1-rank point, makes the merged record the baseline of later points.
PointRecord merge_train_rounds(std::vector<PointRecord> rounds, TrainBench& bench, const TrainPointSpec& spec);

}  // namespace dpb
