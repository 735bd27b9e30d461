#include "train/train_record.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "collectives/rank_threads.h"
#include "measure/stats.h"
#include "sweep/allreduce_point.h"
#include "train/train_point_figures.h"

namespace dpb {
namespace {

std::optional<double> finite(double v) { return std::isfinite(v) ? std::optional<double>(v) : std::nullopt; }

void add_step_stats(PointRecord& rec, const TrainSamples& s) {
  auto phase = [&](double StepTiming::*field) {
    std::vector<double> v;
    for (const auto& t : s.timings) v.push_back(t.*field);
    return summarize(v, "ms");
  };
  rec.stats["step"] = summarize(s.measurement.samples, "ms");
  rec.stats["forward"] = phase(&StepTiming::forward_ms);
  rec.stats["backward"] = phase(&StepTiming::backward_ms);
  rec.stats["exposed_comm"] = phase(&StepTiming::exposed_comm_ms);
  rec.stats["optimizer"] = phase(&StepTiming::optimizer_ms);
  rec.stats["host_enqueue"] = summarize(s.host_ms, "ms");
}

// A process per rank: the spread of the ranks' own step times, as nccl-tests -a reports MPI ranks.
void add_rank_spread(PointRecord& rec, const TrainSamples& s) {
  if (s.rank_step_ms.empty()) return;
  const std::size_t ranks = s.rank_step_ms.front().size();
  std::vector<double> medians;
  for (std::size_t r = 0; r < ranks; ++r) {
    std::vector<double> mine;
    for (const auto& step : s.rank_step_ms) mine.push_back(step[r]);
    medians.push_back(summarize(mine, "ms").median);
  }
  const auto slowest = std::max_element(medians.begin(), medians.end());
  const double avg = std::accumulate(medians.begin(), medians.end(), 0.0) / static_cast<double>(ranks);
  rec.metrics["rank_step_min"] = Metric{*std::min_element(medians.begin(), medians.end()), "ms",
                                        "fastest rank's median step time (its own events)", "measured"};
  rec.metrics["rank_step_avg"] = Metric{avg, "ms", "mean over ranks of each rank's median step time", "measured"};
  rec.metrics["rank_step_max"] = Metric{*slowest, "ms", "slowest rank's median step time", "measured"};
  rec.more["extra"]["slowest_rank"] = static_cast<int>(slowest - medians.begin());
  rec.more["extra"]["rank_step_median_ms"] = medians;
}

std::optional<double> scaling_efficiency(const TrainRecordInputs& in, double step_ms) {
  if (in.spec.ranks() == 1) return 1.0;
  if (!in.baseline_step_ms || !(step_ms > 0)) return std::nullopt;
  const double t1 = *in.baseline_step_ms;
  return in.spec.scaling == Scaling::weak ? t1 / step_ms : t1 / (in.spec.ranks() * step_ms);
}

void add_metrics(PointRecord& rec, const TrainRecordInputs& in) {
  const TrainSamples& s = in.samples;
  const double step_ms = rec.stats["step"].median;
  const double samples_per_step = static_cast<double>(in.trainer.samples_per_step());
  const std::optional<double> throughput =
      step_ms > 0 ? std::optional<double>(samples_per_step / (step_ms / 1e3)) : std::nullopt;
  rec.metrics["samples_per_s"] = Metric{throughput, "samples/s", "global batch x accum / median step time", "derived"};
  rec.metrics["allreduce_calls_per_sample"] =
      Metric{static_cast<double>(s.measured_calls) / (samples_per_step * static_cast<double>(s.timings.size())),
             "calls/sample", "bucket all-reduces issued per rank over the measured steps / samples they trained",
             "measured"};
  add_model_figures(rec, in.trainer.config().model, in.spec.batch);
  if (in.convergence) {
    add_convergence(rec, *in.convergence, in.spec, in.trainer, throughput, in.trainer.config().lr_schedule.base_batch);
  }
  rec.metrics["scaling_efficiency"] =
      Metric{scaling_efficiency(in, step_ms), "ratio",
             in.spec.scaling == Scaling::weak ? "t(1 rank) / t(N ranks), same per-rank batch"
                                              : "t(1 rank) / (N * t(N ranks)), same global batch",
             "derived"};
  double ar = 0, hidden = 0;
  for (const auto& t : s.timings) {
    ar += t.allreduce_ms;
    hidden += t.allreduce_hidden_ms;
  }
  // One rank communicates nothing: an overlap figure there would describe no-op calls.
  const bool overlap_defined = in.spec.ranks() > 1 && ar > 0;
  rec.metrics["overlap_fraction"] = Metric{overlap_defined ? std::optional<double>(hidden / ar) : std::nullopt, "ratio",
                                           "share of all-reduce time inside backward (all ranks, measured steps)",
                                           "derived"};
  rec.metrics["loss_first"] =
      Metric{finite(s.losses.front()), "", "mean loss over the global batch, first measured step", "measured"};
  rec.metrics["loss_last"] =
      Metric{finite(s.losses.back()), "", "mean loss over the global batch, last measured step", "measured"};
  rec.metrics["skipped_steps"] = Metric{static_cast<double>(in.trainer.skipped_steps()), "steps",
                                        "steps skipped by the fp16 loss scaler (warm-up included)", "measured"};
  rec.metrics["weights_sum"] = Metric{finite(in.weights.sum), "", "sum of the final fp32 master weights (rank 0)", "measured"};
}

nlohmann::json bucket_records(const TrainRecordInputs& in) {
  const auto params = in.trainer.config().model.params();
  const int n = in.spec.ranks();
  nlohmann::json out = nlohmann::json::array();
  for (const auto& b : in.trainer.plan().buckets) {
    std::vector<double> v;
    for (const auto& t : in.samples.timings) v.push_back(t.bucket_ms[static_cast<std::size_t>(b.index)]);
    const Stats st = summarize(v, "ms");
    nlohmann::json names = nlohmann::json::array();
    for (int k : b.params) names.push_back(params[static_cast<std::size_t>(k)].name);
    // comm_bytes: what the all-reduce moves (the bucket cast to the comm dtype).
    const std::size_t comm_bytes = b.elements * dtype_size(in.spec.comm_type());
    nlohmann::json one = {{"index", b.index}, {"bytes", b.bytes}, {"comm_bytes", comm_bytes},
                          {"params", names},  {"allreduce", to_json(st)}};
    // p2p: the bucket's schedule counted, for the cost model (0 ranks of traffic at 1 rank).
    const CallPlan call = plan_allreduce_call(in.spec.algo, n, in.spec.comm_type(), b.elements, true, in.communicator);
    if (nlohmann::json counts = call.schedule_json(); !counts.is_null()) one["schedule"] = std::move(counts);
    one["busbw_gbps"] = n > 1 && st.median > 0 ? nlohmann::json(static_cast<double>(comm_bytes) / 1e9 / (st.median / 1e3) *
                                                                allreduce_busbw_factor(n))
                                               : nlohmann::json(nullptr);
    out.push_back(std::move(one));
  }
  return out;
}

nlohmann::json train_extra(const TrainRecordInputs& in, double step_ms, double host_ms) {
  const Trainer& t = in.trainer;
  const TrainConfig& c = t.config();
  return {{"weights_hash", in.weights.hash_hex()},
          {"weights_count", in.weights.count},
          {"loss_scale", t.loss_scale()},
          {"skipped_steps_measured", in.samples.measured_skips},
          {"steps", t.steps_run()},
          {"param_count", c.model.param_count()},
          {"widths", c.model.widths},
          {"comm_dtype", dtype_name(c.comm_type())},
          {"lr_base_batch", c.lr_schedule.base_batch},
          {"warmup_steps", c.lr_schedule.warmup_steps},
          {"activation", activation_name(c.model.activation)},
          {"lr", float_as_decimal(c.optimizer.lr)},
          {"seed", c.seed},
          {"replicas_identical", in.check.identical},
          {"launch", launch_name(in.launch)},
          {"launch_mode", "eager"},  // every step enqueues its kernels and bucket all-reduces; no graph replay
          {"ops_per_stream_per_allreduce", in.ops_per_stream},
          {"host_bound", host_ms >= step_ms},
          {"gradient_averaging", "loss gradient pre-scaled by 1/global_batch; all-reduce sums"}};
}

}  // namespace

void fill_train_record(PointRecord& rec, const TrainRecordInputs& in) {
  add_step_stats(rec, in.samples);
  add_metrics(rec, in);
  rec.more["buckets"] = bucket_records(in);
  rec.more["timeline"] = to_json(in.samples.last_spans);
  rec.more["extra"] = train_extra(in, rec.stats["step"].median, rec.stats["host_enqueue"].median);
  add_rank_spread(rec, in.samples);
  if (!in.check.identical) {
    rec.set_status(PointStatus::failed, "replicas diverged at the end of the run: " + in.check.describe());
  } else if (!std::isfinite(in.samples.losses.back())) {
    rec.set_status(PointStatus::failed, "training diverged: the loss is not finite at the last measured step");
  }
}

}  // namespace dpb
