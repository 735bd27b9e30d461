// Turns one step's recorded spans (core/measure/timeline.h) into the phase times the results
// store. Span names written by the trainer: "forward", "backward", "allreduce[b]" (comm stream),
// "comm_wait" (the compute stream waiting for the last all-reduce after backward: the exposed
// communication) and "optimizer". Times are per rank from that rank's step origin.
//
// A step's phase time is the slowest rank's (the step is as slow as its slowest replica); the
// step time is the latest optimizer end over ranks.
#pragma once
#include <span>
#include <string>
#include <vector>

#include "measure/timeline.h"

namespace dpb {

std::string bucket_span_name(int bucket);  // "allreduce[3]"

struct StepTiming {
  double step_ms = 0, forward_ms = 0, backward_ms = 0, exposed_comm_ms = 0, optimizer_ms = 0;
  std::vector<double> bucket_ms;  // per bucket, slowest rank
  // Over ranks and buckets: total all-reduce time, and the part of it inside [backward start,
  // backward end] of the same rank (the part hidden under backward).
  double allreduce_ms = 0, allreduce_hidden_ms = 0;
  // Buckets whose all-reduce started before that rank's backward ended (any rank).
  int buckets_started_during_backward = 0;
};

// Throws std::logic_error when a span the trainer always records is missing.
StepTiming step_timing(std::span<const TimelineSpan> spans, int ranks, int buckets);

}  // namespace dpb
