#include "train/train_point.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <stdexcept>

#include "device/error.h"
#include "measure/stats.h"
#include "train/step_timing.h"
#include "train/train_record.h"
#include "train/trainer.h"
#include "world/world_measure.h"

namespace dpb {

TrainBench::TrainBench(Backend& backend, TrainBenchConfig config, World* world)
    : backend_(backend), config_(std::move(config)), world_(world), comms_(backend, 2) {}

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
    // A point from another version of the format that lacks an axis of the key is no baseline.
    const std::optional<std::string> key = train_point_axes().rules().baseline_key(a);
    if (key) baselines_[*key] = point.at("stats").at("step").at("median").get<double>();
  } catch (const nlohmann::json::exception&) {
    // A point from another version of the format: it simply is no baseline.
  }
}

std::optional<double> TrainBench::baseline_step_ms(const TrainPointSpec& spec) const {
  auto it = baselines_.find(train_baseline_key(spec));
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

Communicator& TrainBench::communicator(const TrainPointSpec& spec) {
  if (!world_) return comms_.get(spec.algo, spec.devices, config_.communicator);
  auto& slot = world_comms_[spec.algo.text()];
  if (!slot) {
    slot = make_world_communicator(backend_, *world_, spec.algo, spec.devices.at(static_cast<std::size_t>(world_->rank())),
                                   config_.communicator);
  }
  return *slot;
}

namespace {

// Every rank's spans of one step, on every rank (a process per rank holds only its own).
std::vector<TimelineSpan> gather_spans(World& world, const std::vector<TimelineSpan>& mine) {
  std::vector<TimelineSpan> all;
  for (const std::string& text : world.all_gather(to_json(mine).dump())) {
    for (auto& span : spans_from_json(nlohmann::json::parse(text))) all.push_back(std::move(span));
  }
  return all;
}

// Each rank's own step time: its last span's end, from its own origin.
std::vector<double> rank_step_times(const std::vector<TimelineSpan>& spans, int ranks) {
  std::vector<double> out(static_cast<std::size_t>(ranks), 0.0);
  for (const auto& s : spans) {
    auto& t = out.at(static_cast<std::size_t>(s.rank));
    t = std::max(t, s.end_ms);
  }
  return out;
}

}  // namespace

TrainSamples TrainBench::measure_steps(Trainer& trainer, const TrainPointSpec& spec) {
  TrainSamples s;
  const int buckets = static_cast<int>(trainer.plan().buckets.size());
  const IterationFn step = [&](const IterationInfo& info) {
    const std::int64_t calls_before = trainer.allreduce_calls();
    StepResult r = trainer.step();
    std::vector<TimelineSpan> spans = world_ ? gather_spans(*world_, r.spans) : std::move(r.spans);
    const StepTiming t = step_timing(spans, spec.ranks(), buckets);
    if (!info.warmup) {
      s.measured_calls += trainer.allreduce_calls() - calls_before;
      s.timings.push_back(t);
      s.losses.push_back(r.loss);
      s.host_ms.push_back(r.host_enqueue_ms);
      if (r.skipped) ++s.measured_skips;
      if (world_) s.rank_step_ms.push_back(rank_step_times(spans, spec.ranks()));
      s.last_spans = std::move(spans);
    }
    return t.step_ms;
  };
  s.measurement = world_ ? measure_in_world(*world_, config_.stopping, step) : measure(config_.stopping, step);
  return s;
}

PointRecord TrainBench::run(const TrainPointSpec& spec) {
  using Clock = Watchdog::Clock;
  std::optional<Clock::time_point> deadline;
  // A process per rank: the job's watchdog owns the deadline (a peer may hang where no local
  // timeout reaches; bench/cli_world.h).
  if (config_.timeout_s && !world_) {
    deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(*config_.timeout_s));
  }
  Communicator& comm = communicator(spec);
  Watchdog watchdog(deadline, [&comm] { comm.abort(); });
  PointRecord rec;
  rec.id = train_point_id(spec);
  rec.kind = "train";
  rec.axes = train_axes(spec);
  try {
    // Time-to-target first, from the seed's weights, with a trainer of its own.
    std::optional<ConvergenceResult> convergence;
    if (config_.convergence) {
      Trainer trainer(backend_, comm, train_config(spec), watchdog, world_);
      convergence = run_to_target(trainer, *config_.convergence);
    }
    Trainer trainer(backend_, comm, train_config(spec), watchdog, world_);
    const TrainSamples samples = measure_steps(trainer, spec);
    const ReplicaCheck check = trainer.check_replicas();  // collective with a process per rank
    const WeightsFingerprint fp = fingerprint(trainer.master_weights(trainer.first_local_rank()));
    if (world_ && world_->rank() != 0) return rec;  // rank 0 records the point
    const Launch launch = world_ ? Launch::process_per_rank : spec.ranks() > 1 ? config_.launch : Launch::thread_per_rank;
    fill_train_record(rec, TrainRecordInputs{spec, trainer, samples, check, fp, convergence, baseline_step_ms(spec),
                                             launch, max_ops_per_bucket(spec, trainer.plan()),
                                             config_.communicator});
    rec.stopping = stopping_to_json(config_.stopping, samples.measurement);
  } catch (const TimeoutError& e) {
    comms_.clear();  // aborted: never reuse it
    world_comms_.clear();
    char limit[32];
    std::snprintf(limit, sizeof limit, "%g", *config_.timeout_s);
    throw TimeoutError("point exceeded its timeout of " + std::string(limit) + " s: " + e.what());
  }
  remember(rec.to_json());
  return rec;
}

}  // namespace dpb
