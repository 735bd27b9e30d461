// One `dpbench train` point: build the replicas on the point's devices, train warm-up steps, then
// measured steps under the shared stopping rule (core/measure/stopping.h), and turn the recorded
// device events into the point's record (schema kind "train").
//
// Record contents:
//   stats      step, forward, backward, exposed_comm, optimizer (ms, slowest rank per step,
//              core/train/step_timing.h)
//   metrics    samples_per_s (global batch / median step), scaling_efficiency (against the
//              1-rank point of the same config: weak t1/tN, strong t1/(N tN); null without one),
//              overlap_fraction (all-reduce time inside backward / all-reduce time, over measured
//              steps and ranks), loss_first / loss_last (measured steps), skipped_steps (whole
//              run), weights_sum (fp32 master weights at the end)
//   buckets    per bucket: bytes, parameter names, all-reduce stats (ms), busbw (GB/s from the
//              median, nccl-tests' 2(n-1)/n factor)
//   timeline   the last measured step's spans on every rank (ms from the rank's step start)
//   extra      weights_hash, loss_scale, steps, param_count, replicas_identical, comm_dtype, ...
//   model      metrics param_count, tensor_count, flops_per_sample (counted from the executed
//              layout), *_reference (source "model": the real model's published figures; more.model
//              names the source), allreduce_calls_per_sample (measured)
//   convergence with --target-loss (core/train/convergence.h): a fresh trainer first runs to the
//              target; metrics steps_to_target, time_to_target_s (measured), samples_to_target,
//              gradient_noise_scale, critical_batch (derived), statistical_efficiency, goodput
//              (Pollux, source "model"); more.convergence holds the held-out loss curve and norms
// Replicas are compared at the end; any difference makes the point "failed" with the reason (the
// measured figures stay in the record).
#pragma once
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "collectives/communicator.h"
#include "collectives/rank_threads.h"
#include "collectives/communicator_cache.h"
#include "measure/stopping.h"
#include "train/bucket.h"
#include "results/point_axes.h"
#include "results/point_record.h"
#include "train/convergence.h"
#include "train/train_config.h"
#include "world/world.h"

namespace dpb {

class Trainer;
struct TrainSamples;

enum class Scaling { weak, strong };
std::string_view scaling_name(Scaling s);

struct TrainPointSpec {
  ModelSpec model;
  AlgorithmName algo;
  DType precision = DType::f32;
  std::vector<int> devices;  // rank r on devices[r]
  double bucket_mb = 25, first_bucket_mb = 1;
  int batch = 32;  // per rank
  Scaling scaling = Scaling::weak;
  bool overlap = true;
  OptimizerKind optimizer = OptimizerKind::adamw;
  // Sync-frequency, compression and convergence axes (issue 13; train_point_axes() declares every axis).
  int accum = 1;                       // micro-batches per all-reduce (--accum)
  std::optional<DType> comm_dtype;     // --comm-dtype; unset: the precision
  LrScaling lr_scaling = LrScaling::none;

  DType comm_type() const { return comm_dtype.value_or(precision); }
  int ranks() const { return static_cast<int>(devices.size()); }
  int global_batch() const { return batch * ranks(); }
};

// The point's axes, declared once (core/train/train_axes.cpp): model, algo, precision, ranks,
// devices, bucket_mb, first_bucket_mb, batch, global_batch, scaling, overlap, optimizer, then the
// sync-frequency, compression and convergence axes accum, comm_dtype, lr_scaling (named in ids and
// labels only off their default, so ids of earlier results files stay valid). The functions below
// are its derivations.
const PointAxes<TrainPointSpec>& train_point_axes();

// "train/model=small/algo=p2p-ring/precision=fp32/ranks=2/devices=0,1/bucket_mb=25/
//  first_bucket_mb=1/batch=32/global_batch=64/scaling=weak/overlap=1/optimizer=adamw[/accum=4]..."
std::string train_point_id(const TrainPointSpec& p);
// {model, algo, precision, ranks, devices, bucket_mb, first_bucket_mb, batch, global_batch,
//  scaling, overlap, optimizer, accum, comm_dtype, lr_scaling}
nlohmann::json train_axes(const TrainPointSpec& p);
// "small p2p-ring fp32 n=2 b25 bs32"
std::string train_label(const TrainPointSpec& p);
// The key that matches a point with the 1-rank point of the same config (its scaling baseline):
// "train-baseline/sync=1;fp32;none/model=small/algo=p2p-ring/precision=fp32/bucket_mb=25/...";
// the batch part is the 1-rank point's batch (the per-rank batch for weak scaling, the global one
// for strong). A stored point's key is train_point_axes().rules().baseline_key(its axes).
std::string train_baseline_key(const TrainPointSpec& p);

// What every point of a sweep shares (not axes): recorded under invocation.options.
struct TrainBenchConfig {
  StoppingOptions stopping;
  std::optional<double> timeout_s;  // per point; a point past it is recorded as "timeout"
  std::optional<float> lr;          // default: the optimizer's
  std::uint64_t seed = 1;
  Activation activation = Activation::relu;
  LossScalerConfig scaler;
  CommunicatorOptions communicator;
  Launch launch = Launch::thread_per_rank;
  LrSchedule lr_schedule;  // scaling is per point (the axis); base batch and warm-up shared
  std::optional<ConvergenceOptions> convergence;  // --target-loss
};

class TrainBench {
 public:
  // With `world` (a process per rank, mpirun/srun) every rank of the world constructs one and runs
  // the same points in the same order; a point's spec.devices holds every rank's device, this
  // process trains its own rank, and rank 0 gets the record (the others an empty one).
  TrainBench(Backend& backend, TrainBenchConfig config, World* world = nullptr);

  // Measures one point. Errors that stop it (out of memory, unavailable algorithm) propagate as
  // exceptions (the sweep records them); TimeoutError after aborting the communicator.
  PointRecord run(const TrainPointSpec& spec);

  // Makes a finished point (this run's or one read from a resumed file) available as the 1-rank
  // baseline of later points. Ignores points that are not ok 1-rank train points.
  void remember(const nlohmann::json& point);

  // The most operations one bucket's all-reduce puts on a stream (records and --dry-run).
  std::size_t max_ops_per_bucket(const TrainPointSpec& spec, const BucketPlan& plan) const;

  // The baseline step median (ms) for `spec`'s config, if its 1-rank point is known.
  std::optional<double> baseline_step_ms(const TrainPointSpec& spec) const;

  // The config a point trains with (model activation, lr, seed, scaler).
  TrainConfig train_config(const TrainPointSpec& spec) const;

 private:
  Communicator& communicator(const TrainPointSpec& spec);
  // Warm-up and measured steps under the stopping rule (rank 0's with a process per rank).
  TrainSamples measure_steps(Trainer& trainer, const TrainPointSpec& spec);

  Backend& backend_;
  TrainBenchConfig config_;
  World* world_;
  CommunicatorCache comms_;
  std::map<std::string, std::unique_ptr<Communicator>> world_comms_;  // by algorithm, a process per rank
  std::map<std::string, double> baselines_;  // baseline key -> 1-rank step median (ms)
};

}  // namespace dpb
