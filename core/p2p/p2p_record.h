// The results-file record of one `dpbench p2p` run: one point of kind "p2p" whose `matrices` hold
// the six matrices of run_p2p (schema $defs/point, $defs/matrix).
#pragma once
#include <string>

#include "p2p/p2p_bench.h"
#include "results/point_axes.h"
#include "results/point_record.h"

namespace dpb {

// The point's axes, declared once: ranks, devices, bytes, repeats, latency_bytes, latency_repeats
// (the id names devices, bytes and repeats). The spec is the options with the measured positions.
const PointAxes<P2POptions>& p2p_point_axes();

// Id "p2p/devices=0,1/bytes=67108864/repeats=5"; status ok, or failed with the problems as reason.
PointRecord p2p_point_record(const P2POptions& options, const P2PResult& result, std::string started_at,
                             double duration_s);

}  // namespace dpb
