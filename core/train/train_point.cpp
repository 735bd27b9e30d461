#include "train/train_point.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <stdexcept>

#include "device/error.h"
#include "measure/stats.h"
#include "train/step_timing.h"
#include "train/train_point_figures.h"
#include "train/trainer.h"

namespace dpb {
namespace {

// The key that matches a point with the 1-rank point of the same config. `one_rank_batch` is the
// batch that point trains with: the per-rank batch for weak scaling, the global one for strong.
std::string baseline_key(const std::string& model, const std::string& algo, const std::string& precision,
                         double bucket_mb, double first_bucket_mb, long long one_rank_batch, const std::string& scaling,
                         bool overlap, const std::string& optimizer, const std::string& sync) {
  return make_point_id("train-baseline", {{"sync", sync},
                                          {"model", id_value(model)},
                                          {"algo", id_value(algo)},
                                          {"precision", id_value(precision)},
                                          {"bucket_mb", id_value(bucket_mb)},
                                          {"first_bucket_mb", id_value(first_bucket_mb)},
                                          {"batch", id_value(one_rank_batch)},
                                          {"scaling", id_value(scaling)},
                                          {"overlap", id_value(overlap)},
                                          {"optimizer", id_value(optimizer)}});
}

// The sync axes' values as one key part, defaults filled in for files written before they existed.
std::string sync_key(const nlohmann::json& axes) {
  return std::to_string(axes.value("accum", 1)) + ";" + axes.value("comm_dtype", axes.value("precision", "")) + ";" +
         axes.value("lr_scaling", "none");
}

std::string spec_baseline_key(const TrainPointSpec& p) {
  const long long one_rank_batch = p.scaling == Scaling::weak ? p.batch : p.global_batch();
  return baseline_key(p.model.name, p.algo.text(), std::string(dtype_name(p.precision)), p.bucket_mb,
                      p.first_bucket_mb, one_rank_batch, std::string(scaling_name(p.scaling)), p.overlap,
                      std::string(optimizer_name(p.optimizer)), sync_key(train_axes(p)));
}

std::optional<double> finite(double v) { return std::isfinite(v) ? std::optional<double>(v) : std::nullopt; }

}  // namespace

std::string_view scaling_name(Scaling s) { return s == Scaling::weak ? "weak" : "strong"; }

std::vector<SyncAxis> train_sync_axes(const TrainPointSpec& p) {
  const std::string comm(dtype_name(p.comm_type()));
  const std::string lr(lr_scaling_name(p.lr_scaling));
  return {{"accum", p.accum, id_value(p.accum), p.accum == 1},
          {"comm_dtype", comm, id_value(comm), p.comm_type() == p.precision},
          {"lr_scaling", lr, id_value(lr), p.lr_scaling == LrScaling::none}};
}

std::string train_point_id(const TrainPointSpec& p) {
  std::string id = make_point_id("train", {{"model", id_value(p.model.name)},
                                 {"algo", id_value(p.algo.text())},
                                 {"precision", id_value(dtype_name(p.precision))},
                                 {"ranks", id_value(p.ranks())},
                                 {"devices", id_value(p.devices)},
                                 {"bucket_mb", id_value(p.bucket_mb)},
                                 {"first_bucket_mb", id_value(p.first_bucket_mb)},
                                 {"batch", id_value(p.batch)},
                                 {"global_batch", id_value(p.global_batch())},
                                 {"scaling", id_value(scaling_name(p.scaling))},
                                 {"overlap", id_value(p.overlap)},
                                 {"optimizer", id_value(optimizer_name(p.optimizer))}});
  for (const auto& a : train_sync_axes(p)) {
    if (!a.is_default) id += "/" + a.name + "=" + a.id;
  }
  return id;
}

nlohmann::json train_axes(const TrainPointSpec& p) {
  nlohmann::json axes = {{"model", p.model.name},
          {"algo", p.algo.text()},
          {"precision", dtype_name(p.precision)},
          {"ranks", p.ranks()},
          {"devices", p.devices},
          {"bucket_mb", p.bucket_mb},
          {"first_bucket_mb", p.first_bucket_mb},
          {"batch", p.batch},
          {"global_batch", p.global_batch()},
          {"scaling", scaling_name(p.scaling)},
          {"overlap", p.overlap},
          {"optimizer", optimizer_name(p.optimizer)}};
  for (const auto& a : train_sync_axes(p)) axes[a.name] = a.value;
  return axes;
}

std::string train_label(const TrainPointSpec& p) {
  std::string s = p.model.name + " " + p.algo.text() + " " + std::string(dtype_name(p.precision)) +
                  " n=" + std::to_string(p.ranks()) + " b" + id_value(p.bucket_mb) + " bs" + std::to_string(p.batch);
  if (!p.overlap) s += " no-overlap";
  for (const auto& a : train_sync_axes(p)) {
    if (!a.is_default) s += " " + a.name + "=" + a.id;
  }
  return s;
}

TrainBench::TrainBench(Backend& backend, TrainBenchConfig config)
    : backend_(backend), config_(std::move(config)), comms_(backend, 2) {}

TrainConfig TrainBench::train_config(const TrainPointSpec& spec) const {
  TrainConfig c;
  c.model = spec.model;
  if (c.model.is_mlp()) c.model.activation = config_.activation;  // real-layout presets keep theirs
  c.precision = spec.precision;
  c.comm_dtype = spec.comm_dtype;
  c.optimizer = default_optimizer(spec.optimizer, config_.lr);
  c.lr_schedule = config_.lr_schedule;
  c.lr_schedule.scaling = spec.lr_scaling;
  c.local_batch = spec.batch;
  c.accum = spec.accum;
  c.bucket_bytes = mib_to_bytes(spec.bucket_mb);
  c.first_bucket_bytes = mib_to_bytes(spec.first_bucket_mb);
  c.overlap = spec.overlap;
  c.seed = config_.seed;
  c.scaler = config_.scaler;
  c.launch = config_.launch;
  return c;
}

void TrainBench::remember(const nlohmann::json& point) {
  try {
    if (point.value("kind", "") != "train" || point.value("status", "") != "ok") return;
    const auto& a = point.at("axes");
    if (a.at("ranks").get<int>() != 1) return;
    const std::string key = baseline_key(a.at("model").get<std::string>(), a.at("algo").get<std::string>(),
                                         a.at("precision").get<std::string>(), a.at("bucket_mb").get<double>(),
                                         a.at("first_bucket_mb").get<double>(), a.at("batch").get<long long>(),
                                         a.at("scaling").get<std::string>(), a.at("overlap").get<bool>(),
                                         a.at("optimizer").get<std::string>(), sync_key(a));
    baselines_[key] = point.at("stats").at("step").at("median").get<double>();
  } catch (const nlohmann::json::exception&) {
    // A point from another version of the format: it simply is no baseline.
  }
}

std::optional<double> TrainBench::baseline_step_ms(const TrainPointSpec& spec) const {
  auto it = baselines_.find(spec_baseline_key(spec));
  if (it == baselines_.end()) return std::nullopt;
  return it->second;
}

std::size_t TrainBench::max_ops_per_bucket(const TrainPointSpec& spec, const BucketPlan& plan) const {
  std::size_t most = 0;
  for (const auto& b : plan.buckets) {
    most = std::max(most, plan_allreduce_call(spec.algo, spec.ranks(), spec.comm_type(), b.elements, true,
                                              config_.communicator)
                              .ops_per_stream);
  }
  return most;
}

PointRecord TrainBench::run(const TrainPointSpec& spec) {
  using Clock = Watchdog::Clock;
  std::optional<Clock::time_point> deadline;
  if (config_.timeout_s) {
    deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(*config_.timeout_s));
  }
  Communicator& comm = comms_.get(spec.algo, spec.devices, config_.communicator);
  Watchdog watchdog(deadline, [&comm] { comm.abort(); });

  std::vector<StepTiming> timings;
  std::vector<double> losses;
  std::vector<double> host_ms;
  std::vector<TimelineSpan> last_spans;
  std::int64_t measured_skips = 0;
  PointRecord rec;
  rec.id = train_point_id(spec);
  rec.kind = "train";
  rec.axes = train_axes(spec);
  try {
    // Time-to-target first, from the seed's weights, with a trainer of its own.
    std::optional<ConvergenceResult> convergence;
    if (config_.convergence) {
      Trainer trainer(backend_, comm, train_config(spec), watchdog);
      convergence = run_to_target(trainer, *config_.convergence);
    }
    Trainer trainer(backend_, comm, train_config(spec), watchdog);
    const int buckets = static_cast<int>(trainer.plan().buckets.size());
    std::int64_t measured_calls = 0;
    const Measurement m = measure(config_.stopping, [&](const IterationInfo& info) {
      const std::int64_t calls_before = trainer.allreduce_calls();
      StepResult r = trainer.step();
      const StepTiming t = step_timing(r.spans, spec.ranks(), buckets);
      if (!info.warmup) {
        measured_calls += trainer.allreduce_calls() - calls_before;
        timings.push_back(t);
        losses.push_back(r.loss);
        host_ms.push_back(r.host_enqueue_ms);
        if (r.skipped) ++measured_skips;
        last_spans = std::move(r.spans);
      }
      return t.step_ms;
    });

    auto phase = [&](double StepTiming::*field) {
      std::vector<double> v;
      for (const auto& t : timings) v.push_back(t.*field);
      return summarize(v, "ms");
    };
    rec.stats["step"] = summarize(m.samples, "ms");
    rec.stats["forward"] = phase(&StepTiming::forward_ms);
    rec.stats["backward"] = phase(&StepTiming::backward_ms);
    rec.stats["exposed_comm"] = phase(&StepTiming::exposed_comm_ms);
    rec.stats["optimizer"] = phase(&StepTiming::optimizer_ms);
    rec.stats["host_enqueue"] = summarize(host_ms, "ms");
    rec.stopping = stopping_to_json(config_.stopping, m);

    const double step_ms = rec.stats["step"].median;
    const double samples_per_step = static_cast<double>(trainer.samples_per_step());
    const std::optional<double> throughput =
        step_ms > 0 ? std::optional<double>(samples_per_step / (step_ms / 1e3)) : std::nullopt;
    rec.metrics["samples_per_s"] =
        Metric{throughput, "samples/s", "global batch x accum / median step time", "derived"};
    rec.metrics["allreduce_calls_per_sample"] =
        Metric{static_cast<double>(measured_calls) / (samples_per_step * static_cast<double>(timings.size())), "calls/sample",
               "bucket all-reduces issued per rank over the measured steps / samples they trained", "measured"};
    add_model_figures(rec, trainer.config().model, spec.batch);
    if (convergence) add_convergence(rec, *convergence, spec, trainer, throughput, config_.lr_schedule.base_batch);
    std::optional<double> efficiency;
    if (spec.ranks() == 1) {
      efficiency = 1.0;
    } else if (auto t1 = baseline_step_ms(spec); t1 && step_ms > 0) {
      efficiency = spec.scaling == Scaling::weak ? *t1 / step_ms : *t1 / (spec.ranks() * step_ms);
    }
    rec.metrics["scaling_efficiency"] =
        Metric{efficiency, "ratio",
               spec.scaling == Scaling::weak ? "t(1 rank) / t(N ranks), same per-rank batch"
                                             : "t(1 rank) / (N * t(N ranks)), same global batch",
               "derived"};
    double ar = 0, hidden = 0;
    for (const auto& t : timings) {
      ar += t.allreduce_ms;
      hidden += t.allreduce_hidden_ms;
    }
    // One rank communicates nothing: an overlap figure there would describe no-op calls.
    const bool overlap_defined = spec.ranks() > 1 && ar > 0;
    rec.metrics["overlap_fraction"] = Metric{overlap_defined ? std::optional<double>(hidden / ar) : std::nullopt, "ratio",
                                             "share of all-reduce time inside backward (all ranks, measured steps)",
                                             "derived"};
    rec.metrics["loss_first"] = Metric{finite(losses.front()), "", "mean loss over the global batch, first measured step", "measured"};
    rec.metrics["loss_last"] = Metric{finite(losses.back()), "", "mean loss over the global batch, last measured step", "measured"};
    rec.metrics["skipped_steps"] = Metric{static_cast<double>(trainer.skipped_steps()), "steps",
                                          "steps skipped by the fp16 loss scaler (warm-up included)", "measured"};

    const ReplicaCheck check = trainer.check_replicas();
    const WeightsFingerprint fp = fingerprint(trainer.master_weights(0));
    rec.metrics["weights_sum"] = Metric{finite(fp.sum), "", "sum of the final fp32 master weights (rank 0)", "measured"};

    const auto params = trainer.config().model.params();
    nlohmann::json bucket_json = nlohmann::json::array();
    for (const auto& b : trainer.plan().buckets) {
      std::vector<double> v;
      for (const auto& t : timings) v.push_back(t.bucket_ms[static_cast<std::size_t>(b.index)]);
      const Stats st = summarize(v, "ms");
      nlohmann::json names = nlohmann::json::array();
      for (int k : b.params) names.push_back(params[static_cast<std::size_t>(k)].name);
      // comm_bytes: what the all-reduce moves (the bucket cast to the comm dtype).
      const std::size_t comm_bytes = b.elements * dtype_size(spec.comm_type());
      nlohmann::json one = {{"index", b.index},        {"bytes", b.bytes},          {"comm_bytes", comm_bytes},
                            {"params", names},         {"allreduce", to_json(st)}};
      const double factor = 2.0 * (spec.ranks() - 1) / spec.ranks();
      one["busbw_gbps"] = spec.ranks() > 1 && st.median > 0 ? nlohmann::json(static_cast<double>(comm_bytes) / 1e9 / (st.median / 1e3) * factor)
                                        : nlohmann::json(nullptr);
      bucket_json.push_back(std::move(one));
    }
    rec.more["buckets"] = std::move(bucket_json);
    rec.more["timeline"] = to_json(last_spans);
    rec.more["extra"] = {{"weights_hash", fp.hash_hex()},
                         {"weights_count", fp.count},
                         {"loss_scale", trainer.loss_scale()},
                         {"skipped_steps_measured", measured_skips},
                         {"steps", trainer.steps_run()},
                         {"param_count", trainer.config().model.param_count()},
                         {"widths", trainer.config().model.widths},
                         {"comm_dtype", dtype_name(trainer.config().comm_type())},
                         {"lr_base_batch", trainer.config().lr_schedule.base_batch},
                         {"warmup_steps", trainer.config().lr_schedule.warmup_steps},
                         {"activation", activation_name(trainer.config().model.activation)},
                         {"lr", float_as_decimal(trainer.config().optimizer.lr)},
                         {"seed", trainer.config().seed},
                         {"replicas_identical", check.identical},
                         {"launch", launch_name(spec.ranks() > 1 ? config_.launch : Launch::thread_per_rank)},
                         {"ops_per_stream_per_allreduce", max_ops_per_bucket(spec, trainer.plan())},
                         {"host_bound", rec.stats["host_enqueue"].median >= step_ms},
                         {"gradient_averaging", "loss gradient pre-scaled by 1/global_batch; all-reduce sums"}};
    if (!check.identical) {
      rec.set_status(PointStatus::failed, "replicas diverged at the end of the run: " + check.describe());
    } else if (!std::isfinite(losses.back())) {
      rec.set_status(PointStatus::failed, "training diverged: the loss is not finite at the last measured step");
    }
  } catch (const TimeoutError& e) {
    comms_.clear();  // aborted: never reuse it
    char limit[32];
    std::snprintf(limit, sizeof limit, "%g", *config_.timeout_s);
    throw TimeoutError("point exceeded --timeout " + std::string(limit) + " s: " + e.what());
  }
  remember(rec.to_json());
  return rec;
}

}  // namespace dpb
