// Points measured in several interleaved rounds (`--repeats R`): the sweep runs every point once
// per round, round after round (round-robin over the points, never R times back to back), so a
// slow drift of the machine (clocks, temperature, neighbours) spreads over all points instead of
// biasing some. The rounds' records of one point are merged into one record whose statistic holds
// every sample (stats.<name>.samples, round after round) and a summary per round
// (stats.<name>.repeats = [{round, median, mean, count}]).
#pragma once
#include <string>
#include <vector>

#include "results/point_record.h"

namespace dpb {

// Merges the rounds (in round order) of one point. `stat` names the statistic measured per round
// (e.g. "time"); the last round's record is the base (its metrics must be re-derived by the
// caller from the merged statistic). Check counts add up; a round that was not ok makes the
// merged record not ok with that round's reason. stopping.iters becomes the total, and
// stopping.rounds the number of rounds.
PointRecord merge_rounds(std::vector<PointRecord> rounds, const std::string& stat);
// The same, merging several statistics (each gets its own per-round summaries); the first one
// counts the iterations (stopping.iters).
PointRecord merge_rounds(std::vector<PointRecord> rounds, const std::vector<std::string>& stats);

}  // namespace dpb
