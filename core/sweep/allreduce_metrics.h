// The bandwidth figures of an all-reduce record (nccl-tests' definitions, FACTS.md):
// algbw = bytes / median time (GB = 1e9 bytes), busbw = algbw x 2(n-1)/n. A 1-rank all-reduce
// moves no data between ranks, so it has no busbw (null): its "bandwidth" would only say how fast
// a no-op returns.
#pragma once
#include <cstddef>
#include <vector>

#include "results/point_record.h"

namespace dpb {

// Sets metrics.algbw and metrics.busbw from stats.time.median (us).
void set_allreduce_bandwidth(PointRecord& rec, std::size_t bytes, int ranks);

// Merges the --repeats rounds of one all-reduce point (sweep/repeats.h) and re-derives its
// bandwidths from the merged median.
PointRecord merge_allreduce_rounds(std::vector<PointRecord> rounds);

}  // namespace dpb
