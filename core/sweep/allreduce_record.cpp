#include "sweep/allreduce_record.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <utility>

#include "collectives/algorithm_rules.h"
#include "sweep/allreduce_metrics.h"

namespace dpb {
namespace {

// rec.check, and the failed status (with `wrong_detail` after the count) when the check failed.
void set_check(PointRecord& rec, const AllreduceCheck& check, bool in_place, InputPattern pattern,
               const std::string& wrong_detail) {
  const CheckResult& c = check.result;
  nlohmann::json j = {{"wrong_elements", c.wrong},
                      {"checked_elements", c.checked},
                      {"tolerance", c.tolerance},
                      {"input_pattern", input_pattern_name(pattern)}};
  if (std::isfinite(c.max_abs_error)) j["max_abs_error"] = c.max_abs_error;
  if (!in_place) j["send_buffers_unchanged"] = !check.send_modified;
  rec.check = std::move(j);
  std::string why;
  if (c.wrong > 0) {
    why = std::to_string(c.wrong) + " of " + std::to_string(c.checked) + " elements wrong " + wrong_detail;
  }
  if (check.send_modified) why += std::string(why.empty() ? "" : "; ") + "the out-of-place call modified a send buffer";
  if (!why.empty()) rec.set_status(PointStatus::failed, why);
}

std::string in_process_wrong_detail(const CheckResult& c) {
  return "(tolerance " + std::to_string(c.tolerance) + ", max abs error " +
         (std::isfinite(c.max_abs_error) ? std::to_string(c.max_abs_error) : std::string("inf/nan")) + ")";
}

// stats.time and stats.host_time, algbw and busbw, stopping.
void set_timing(PointRecord& rec, const AllreducePointSpec& spec, const StoppingOptions& stopping,
                const AllreduceSamples& samples) {
  rec.stats["time"] = summarize(samples.timing.samples, "us");
  set_allreduce_bandwidth(rec, spec.bytes(), spec.ranks());
  rec.stopping = stopping_to_json(stopping, samples.timing);
  rec.stats["host_time"] = summarize(samples.host_us, "us");
}

bool host_bound(const PointRecord& rec) { return rec.stats.at("host_time").median >= rec.stats.at("time").median; }

// The call plan's figures that apply (p2p scratch, chunk and the schedule's own counts for the cost
// model; NCCL has none of them).
void set_plan_extra(nlohmann::json& extra, const CallPlan& plan) {
  if (plan.scratch_bytes > 0) extra["scratch_bytes_per_rank"] = plan.scratch_bytes;
  if (plan.chunk_bytes > 0) extra["chunk_bytes"] = plan.chunk_bytes;
  if (nlohmann::json counts = plan.schedule_json(); !counts.is_null()) extra["schedule"] = std::move(counts);
}

}  // namespace

PointRecord allreduce_record_head(const AllreducePointSpec& spec) {
  PointRecord rec;
  rec.id = allreduce_point_id(spec);
  rec.kind = "allreduce";
  rec.axes = allreduce_axes(spec);
  return rec;
}

PointRecord allreduce_record(const AllreducePointSpec& spec, const AllreduceConfig& config,
                             const AllreduceSamples& samples, const AllreduceCallSetup& setup) {
  PointRecord rec = allreduce_record_head(spec);
  set_timing(rec, spec, config.stopping, samples);
  if (samples.check) set_check(rec, *samples.check, spec.in_place, config.pattern, in_process_wrong_detail(samples.check->result));
  nlohmann::json& extra = rec.more["extra"];
  extra = {{"timing", "rank 0 events: common start to the last rank's end"},
           {"stream_gate", setup.gated},
           {"time_statistic", "median"},
           {"launch", launch_name(setup.launch)},
           {"launch_mode", setup.graph ? "graph" : "eager"},
           {"ops_per_stream", setup.plan.ops_per_stream},
           {"host_bound", host_bound(rec)}};
  set_plan_extra(extra, setup.plan);
  if (spec.algo.transport == Transport::nccl && repeated_device(spec.devices)) {
    // NCCL's multi-rank-per-GPU mode (>= 2.30) is experimental and shares one GPU's SMs and memory
    // between ranks: the result is checked, but the time says nothing about a real multi-GPU node.
    extra["functional_only"] = "NCCL ranks share a GPU (NCCL_MULTI_RANK_GPU_ENABLE)";
  }
  if (setup.gate_skipped) {
    extra["stream_gate_skipped"] = "one call's " + std::to_string(setup.gate_skipped->ops) +
                                   " operations on rank 0's stream would reach the queue depth of " +
                                   std::to_string(setup.gate_skipped->queue_depth);
  }
  if (setup.graph) {
    extra["graph"] = {{"calls_per_launch", setup.graph->calls_per_launch},
                      {"capture", graph_capture_name(setup.graph->capture)},
                      {"nodes", setup.graph->nodes},
                      {"graphs", setup.graph->graphs}};
  }
  return rec;
}

PointRecord allreduce_world_record(const AllreducePointSpec& spec, const AllreduceConfig& config,
                                   const AllreduceSamples& samples, const AllreduceRankTimes& ranks) {
  PointRecord rec = allreduce_record_head(spec);
  set_timing(rec, spec, config.stopping, samples);
  const std::vector<double>& medians = ranks.medians_us;
  const auto slowest = std::max_element(medians.begin(), medians.end());
  const double avg = std::accumulate(medians.begin(), medians.end(), 0.0) / static_cast<double>(medians.size());
  rec.metrics["rank_time_min"] = Metric{*std::min_element(medians.begin(), medians.end()), "us",
                                        "fastest rank's median time per call (its own events)", "measured"};
  rec.metrics["rank_time_avg"] = Metric{avg, "us", "mean over ranks of each rank's median time per call", "measured"};
  rec.metrics["rank_time_max"] = Metric{*slowest, "us", "slowest rank's median time per call", "measured"};
  if (samples.check) set_check(rec, *samples.check, spec.in_place, config.pattern, "(all ranks)");
  const CallPlan plan =
      plan_allreduce_call(spec.algo, spec.ranks(), spec.dtype, spec.count, spec.in_place, config.communicator);
  nlohmann::json& extra = rec.more["extra"];
  extra = {{"timing", "each rank's own events from a host barrier's exit to its end; sample = the slowest rank"},
           {"stream_gate", false},
           {"time_statistic", "median"},
           {"launch", launch_name(Launch::process_per_rank)},
           {"launch_mode", "eager"},
           {"ops_per_stream", plan.ops_per_stream},
           {"host_bound", host_bound(rec)},
           {"slowest_rank", static_cast<int>(slowest - medians.begin())},
           {"rank_median_us", medians}};
  if (spec.algo.transport == Transport::p2p) {
    extra["staging"] = "shared-memory staging: the message is copied in and out once per call per rank";
  }
  set_plan_extra(extra, plan);
  return rec;
}

}  // namespace dpb
