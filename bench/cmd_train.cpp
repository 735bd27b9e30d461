// `dpbench train`: the reference data-parallel training loop (an MLP on synthetic data, DDP-style
// gradient buckets overlapped with backward) swept over rank counts, bucket sizes, precisions,
// all-reduce algorithms and batch sizes. Same results file, stopping rule and flags as
// `dpbench allreduce`; the record layout is described in core/train/train_point.h.
#include <algorithm>
#include <iostream>
#include <limits>
#include <map>
#include <set>

#include "cli_backend.h"
#include "cli_lists.h"
#include "cli_sweep_flags.h"
#include "cli_train_sync.h"
#include "collectives/algorithm_rules.h"
#include "commands.h"
#include "results/results_file.h"
#include "sweep/progress.h"
#include "sweep/sweep.h"
#include "system/system_info.h"
#include "train/bucket.h"
#include "train/train_plan_check.h"
#include "train/train_point.h"
#include "train/train_repeats.h"
#include "train/train_table.h"
#include "cli_world.h"
#include "world/world.h"

namespace dpb::cli {

namespace {

// Sized so the CI sweep (small model, 1/2/4 ranks, 2 buckets x 2 precisions x 2 algorithms) takes
// about a minute on 2 cores: a step there is 5-60 ms, so 1.5 s caps a point at 25-300 steps.
StoppingOptions default_stopping() {
  StoppingOptions s;
  s.warmup_iters = 3;
  s.min_iters = 10;
  s.max_iters = 100000;
  s.max_noise = 0.02;
  s.max_time_s = 1.5;
  return s;
}

struct TrainFlags {
  BackendFlags backend;
  RankFlags ranks;
  StoppingFlags stopping;
  OutputFlags output;
  std::string model = "small";
  std::string algo;  // empty: nccl-auto on cuda, p2p-ring on cpu
  std::string precision = "fp32";
  std::string bucket_mb = "25";
  double first_bucket_mb = 1;
  std::string batch;         // empty: 32 (weak scaling)
  std::string global_batch;  // strong scaling
  bool no_overlap = false;
  std::string optimizer = "adamw";
  std::optional<double> lr;  // unset: the optimizer's default
  std::uint64_t seed = 1;
  std::string activation = "relu";
  std::optional<double> timeout;  // seconds; unset: no limit
  double loss_scale_init = 65536;
  int loss_scale_interval = 2000;
  std::string launch = "thread-per-rank";
  bool dry_run = false;
  SyncFlags sync;
};

// 1, 2, 4, ... up to the device count, and the device count itself: a scaling curve by default.
std::string default_rank_counts(int devices) {
  std::string s;
  int n = 1;
  for (; n < devices; n *= 2) s += std::to_string(n) + ",";
  return s + std::to_string(devices);
}

std::vector<double> parse_mb_list(const std::string& text, const char* flag) {
  return parse_list<double>(text, flag, [flag](const std::string& item) { return parse_double(item, flag, 0, 1 << 20); });
}

// What every point of the sweep shares, parsed and checked from the flags.
struct TrainSweep {
  StoppingOptions stopping;
  ModelSpec model;
  std::vector<DType> precisions;
  std::vector<double> bucket_mbs;
  double first_bucket_mb = 1;
  Scaling scaling = Scaling::weak;
  std::vector<int> batches;
  OptimizerKind optimizer = OptimizerKind::adamw;
  TrainBenchConfig config;
  SyncSettings sync;
  int repeats = 1;
};

std::vector<int> parse_batches(const TrainFlags& f, Scaling scaling, const ModelSpec& model) {
  if (!f.batch.empty() && !f.global_batch.empty()) {
    throw std::invalid_argument("--global-batch: cannot be combined with --batch (strong scaling fixes the global "
                                "batch and gives each of N ranks global/N samples)");
  }
  const char* flag = scaling == Scaling::weak ? "--batch" : "--global-batch";
  const std::vector<int> batches =
      parse_positive_int_list(scaling == Scaling::weak ? (f.batch.empty() ? "32" : f.batch) : f.global_batch, flag);
  for (int b : batches) {
    if (b > (1 << 24)) {
      throw std::invalid_argument(std::string(flag) + ": " + std::to_string(b) + " is above the limit of 16777216 samples");
    }
    if (model.batch_multiple > 1 && scaling == Scaling::weak && b % model.batch_multiple != 0) {
      throw std::invalid_argument("--batch: " + model.name + " takes tokens per rank in whole sequences of " +
                                  std::to_string(model.batch_multiple) + "; " + std::to_string(b) + " is not a multiple");
    }
  }
  return batches;
}

void parse_shared_settings(const TrainFlags& f, TrainBenchConfig& config) {
  if (f.lr) config.lr = static_cast<float>(*f.lr);
  config.seed = f.seed;
  config.activation = parse_activation(f.activation);
  config.timeout_s = f.timeout;
  config.scaler.init_scale = static_cast<float>(f.loss_scale_init);
  config.scaler.growth_interval = f.loss_scale_interval;
  config.scaler.validate();
  config.launch = parse_launch(f.launch);
}

TrainSweep parse_train_flags(const TrainFlags& f) {
  TrainSweep t;
  t.stopping = parse_stopping_flags(f.stopping, default_stopping());
  t.model = parse_model(f.model);
  t.precisions = parse_list<DType>(f.precision, "--dtype", [](const std::string& s) { return parse_dtype(s); });
  t.bucket_mbs = parse_mb_list(f.bucket_mb, "--bucket-mb");
  t.first_bucket_mb = f.first_bucket_mb;
  t.scaling = f.global_batch.empty() ? Scaling::weak : Scaling::strong;
  t.batches = parse_batches(f, t.scaling, t.model);
  t.optimizer = parse_optimizer(f.optimizer);
  t.sync = parse_sync_flags(f.sync, t.config);
  for (DType p : t.precisions) {
    for (const auto& c : t.sync.comm_dtypes) {
      if (c && *c != p && p != DType::f32) {
        throw std::invalid_argument("--comm-dtype: compression applies to fp32 training (--precision " +
                                    std::string(dtype_name(p)) + " already all-reduces in " + std::string(dtype_name(p)) + ")");
      }
    }
  }
  t.config.stopping = t.stopping;
  parse_shared_settings(f, t.config);
  t.repeats = f.stopping.repeats;
  return t;
}

// The ranks: from --gpus/--devices in one process; the world's processes under mpirun/srun.
RankPlan train_rank_plan(const TrainFlags& f, const TrainSweep& t, Backend& backend, World* world) {
  RankPlan plan;
  if (world) {
    plan.rank_counts = {world->size()};
    plan.devices = world->gather_ints(world_device(*world, backend.device_count()));
  } else {
    RankFlags flags = f.ranks;
    if (flags.gpus.empty() && flags.devices.empty()) flags.gpus = default_rank_counts(backend.device_count());
    plan = parse_rank_flags(flags, backend.device_count(), backend.device_count());
  }
  // 1-rank points first: later points of the same config compute their efficiency against them.
  std::sort(plan.rank_counts.begin(), plan.rank_counts.end());
  if (t.scaling == Scaling::strong) {
    for (int g : t.batches) {
      for (int n : plan.rank_counts) {
        if (g % n != 0) {
          throw std::invalid_argument("--global-batch: " + std::to_string(g) + " is not divisible by " +
                                      std::to_string(n) + (world ? " processes (mpirun -np)" : " ranks (--gpus)"));
        }
      }
    }
  }
  return plan;
}

// Every point, ranks outermost (1-rank baselines first).
std::vector<TrainPointSpec> train_specs(const TrainSweep& t, const RankPlan& ranks,
                                        const std::vector<AlgorithmName>& algos, bool overlap) {
  std::vector<TrainPointSpec> specs;
  TrainPointSpec spec;
  spec.model = t.model;
  spec.first_bucket_mb = t.first_bucket_mb;
  spec.scaling = t.scaling;
  spec.overlap = overlap;
  spec.optimizer = t.optimizer;
  for (int n : ranks.rank_counts) {
    spec.devices = ranks.devices_for(n);
    for (const auto& algo : algos) {
      spec.algo = algo;
      for (DType precision : t.precisions) {
        spec.precision = precision;
        for (double bucket_mb : t.bucket_mbs) {
          spec.bucket_mb = bucket_mb;
          for (int b : t.batches) {
            spec.batch = t.scaling == Scaling::weak ? b : b / n;
            for (int accum : t.sync.accums) {
              spec.accum = accum;
              for (const auto& comm_dtype : t.sync.comm_dtypes) {
                spec.comm_dtype = comm_dtype;
                for (LrScaling lr_scaling : t.sync.lr_scalings) {
                  spec.lr_scaling = lr_scaling;
                  specs.push_back(spec);
                }
              }
            }
          }
        }
      }
    }
  }
  return specs;
}

std::vector<SweepPoint> sweep_points(TrainBench& bench, const std::vector<TrainPointSpec>& specs) {
  std::vector<SweepPoint> plan;
  for (const TrainPointSpec& spec : specs) {
    plan.push_back(SweepPoint{train_point_id(spec), "train", train_label(spec), train_axes(spec),
                              [&bench, spec] { return bench.run(spec); },
                              [&bench, spec](std::vector<PointRecord> rounds) {
                                return merge_train_rounds(std::move(rounds), bench, spec);
                              }});
  }
  return plan;
}

// The points, with the most operations one bucket's all-reduce puts on a stream.
void print_dry_run(std::ostream& out, const TrainBench& bench, const std::vector<TrainPointSpec>& specs) {
  out << "# dry run: " << specs.size() << " points; nothing is measured and no results file is written\n"
      << "# point  ops/stream  buckets\n";
  for (const TrainPointSpec& spec : specs) {
    const BucketPlan buckets = assign_buckets(spec.model.params(), dtype_size(spec.precision),
                                              mib_to_bytes(spec.bucket_mb), mib_to_bytes(spec.first_bucket_mb));
    out << train_label(spec) << "  " << bench.max_ops_per_bucket(spec, buckets) << "  " << buckets.buckets.size() << "\n";
  }
}

// The sweep's axis values come from the points (train_point_axes()); the rest are shared settings.
nlohmann::json train_options(const TrainFlags& f, const TrainSweep& t, const RankPlan& ranks,
                             const std::vector<TrainPointSpec>& specs, Launch launch) {
  nlohmann::json options = backend_options_json(f.backend);
  options.update(train_point_axes().options(specs));
  options["gpus"] = ranks.rank_counts;
  options["devices"] = ranks.devices ? nlohmann::json(*ranks.devices) : nlohmann::json(nullptr);
  options["widths"] = t.model.widths;
  options["param_count"] = t.model.param_count();
  options["activation"] = activation_name(t.model.is_mlp() ? t.config.activation : t.model.activation);
  options["lr"] = float_as_decimal(default_optimizer(t.optimizer, t.config.lr).lr);
  options["seed"] = t.config.seed;
  options["timeout_s"] = t.config.timeout_s ? nlohmann::json(*t.config.timeout_s) : nlohmann::json(nullptr);
  options["loss_scale_init"] = t.config.scaler.init_scale;
  options["loss_scale_interval"] = t.config.scaler.growth_interval;
  options["stopping"] = stopping_options_json(t.stopping);
  options["launch"] = launch_name(launch);
  if (t.repeats > 1) options["repeats"] = t.repeats;  // absent = 1, as in files written before --repeats
  add_sync_options(options, t.config);
  options["tensor_count"] = t.model.params().size();
  return options;
}

void print_train_header(std::ostream& out, const TrainSweep& t, const BackendSetup& setup, const nlohmann::json& options,
                        std::size_t points, World* world) {
  const ModelSpec& model = t.model;
  const StoppingOptions& stopping = t.stopping;
  out << "# dpbench train  backend: " << setup.backend->name() << " (" << setup.choice.why << ")\n"
      << "# model " << model.name << ": " << (model.is_mlp() ? "widths " + nlohmann::json(model.widths).dump() : model.what)
      << ", " << model.param_count() << " parameters in " << model.params().size() << " tensors, "
      << model.flops_per_sample() / 1e9 << " GFLOP/sample, " << options["activation"].get<std::string>() << "; optimizer "
      << optimizer_name(t.optimizer) << " lr " << options["lr"].get<double>() << "; seed " << t.config.seed << "\n";
  if (world) out << "# launch: process-per-rank (" << world->size() << " ranks, " << world->library() << ")\n";
  out << "# " << points << " points; stopping: " << stopping_text(stopping, "steps")
      << (t.repeats > 1 ? "; " + std::to_string(t.repeats) + " interleaved rounds per point" : "") << "\n";
}

// The table lists the plan's points in plan order, including those carried over by --resume.
void print_summary(std::ostream& out, const std::vector<SweepPoint>& plan, const std::map<std::string, nlohmann::json>& done,
                   const std::optional<ResultsFile>& results) {
  std::map<std::string, const nlohmann::json*> by_id;
  if (results) {
    for (const auto& j : results->document()["points"]) by_id[j.value("id", "")] = &j;
  }
  for (const auto& [id, j] : done) by_id[id] = &j;
  std::vector<nlohmann::json> rows;
  for (const auto& p : plan) {
    if (auto it = by_id.find(p.id); it != by_id.end()) rows.push_back(*it->second);
  }
  print_train_summary(out, rows);
}

// Rank 0 (or the one process) opens the results file; with a process per rank the others learn
// which points --resume already holds and drop them from their plan.
std::optional<ResultsFile> open_train_results(const OutputFlags& output, ResultsHeader header, World* world,
                                              const RankPlan& ranks, std::vector<SweepPoint>& plan) {
  if (!world) return open_results_file(output, header);
  describe_world(header.system, *world, *ranks.devices);
  std::set<std::string> done_ids;
  std::optional<ResultsFile> results = open_world_results_file(*world, output, header, done_ids);
  if (world->rank() != 0) drop_done_points(plan, done_ids);
  return results;
}

int run_train(const TrainFlags& f, const Invocation& inv) {
  // Everything is parsed and validated before anything is measured or written.
  TrainSweep t = parse_train_flags(f);
  validate_output_flags(f.output);
  // Process per rank (mpirun/srun): this process is one rank; rank 0 prints and writes.
  std::unique_ptr<World> world = open_world_if_launched();
  const bool leader = !world || world->rank() == 0;
  const std::optional<ResultsLock> lock = leader ? lock_output(f.output) : std::nullopt;  // one writer per file
  std::ostream quiet(nullptr);  // ranks other than 0 say nothing about the backend
  BackendSetup setup = open_backend(f.backend, leader ? std::cerr : quiet);
  Backend& backend = *setup.backend;
  const std::vector<AlgorithmName> algos = parse_algo_flag(f.algo, backend);
  check_world_algorithms(algos, world.get());
  const RankPlan rank_plan = train_rank_plan(f, t, backend, world.get());
  const Launch launch = world ? Launch::process_per_rank : t.config.launch;

  TrainBench bench(backend, t.config, world.get());
  const std::vector<TrainPointSpec> specs = train_specs(t, rank_plan, algos, !f.no_overlap);
  std::vector<SweepPoint> plan = sweep_points(bench, specs);
  validate_plan(plan);
  // Every point's replica must fit before the first one runs (a refusal names --model or --batch).
  try {
    if (!f.dry_run) check_train_plan(backend, specs);
  } catch (const SettingError& e) {
    throw flag_error(e, {{"local_batch", f.batch.empty() ? f.global_batch : f.batch}});
  }
  if (f.dry_run) {
    if (leader) print_dry_run(std::cout, bench, specs);
    return 0;
  }

  const nlohmann::json options = train_options(f, t, rank_plan, specs, launch);
  std::optional<ResultsFile> results =
      open_train_results(f.output,
                         ResultsHeader{"train", inv.argv, options, describe_system(backend, rank_plan.distinct_devices()),
                                       train_point_axes().order()},
                         world.get(), rank_plan, plan);
  if (results) {
    for (const auto& p : results->document().value("points", nlohmann::json::array())) bench.remember(p);
  }
  JobWatchdog watchdog;
  if (world && t.config.timeout_s) guard_points(plan, *world, watchdog, *t.config.timeout_s, results ? &*results : nullptr);
  if (leader) {
    print_train_header(std::cout, t, setup, options, plan.size(), world.get());
    if (results && results->resumed_points() > 0) {
      std::cout << "# resumed: " << results->resumed_points() << " points already in " << f.output.out << "\n";
    }
    std::cout.flush();
  }

  std::map<std::string, nlohmann::json> finished;
  SweepOptions so;
  so.results = results ? &*results : nullptr;
  so.progress = leader ? &std::cerr : nullptr;
  so.progress_tty = stderr_is_tty();
  so.repeats = t.repeats;
  if (leader) so.on_record = [&](const PointRecord& rec) {
    finished[rec.id] = rec.to_json();
    // Fewer steps than asked for are never silent (measure/stopping.h).
    if (rec.stopping && rec.stopping->contains("shortfall")) {
      std::cout << "# note: " << rec.id << ": " << (*rec.stopping)["shortfall"].get<std::string>() << "\n";
    }
  };
  // A timed-out point aborted the communicator (and the cpu backend): nothing more can run.
  so.stop_after = [](const PointRecord& rec) { return rec.status == PointStatus::timeout; };
  const SweepOutcome outcome = plan.empty() ? SweepOutcome{} : run_sweep(plan, so);
  if (world) {  // every rank exits with rank 0's verdict
    std::string code = outcome.all_ok() ? "0" : "1";
    world->broadcast(code, 0);
    if (!leader) return std::stoi(code);
  }
  print_summary(std::cout, plan, finished, results);
  print_points_footer(std::cout, outcome);
  std::cout << results_location_line(f.output, results);
  return outcome.all_ok() ? 0 : 1;
}

}  // namespace

Command add_train_command(CLI::App& root) {
  auto flags = std::make_shared<TrainFlags>();
  auto* app = root.add_subcommand("train", "Data-parallel training sweep: DDP-style bucketed all-reduce overlapped "
                                           "with backward, scaling efficiency over rank counts");
  add_backend_flags(*app, flags->backend);
  add_rank_flags(*app, flags->ranks);
  app->add_option("--model", flags->model,
                  "MLP: small (~1M params), medium (~25M), large (~350M) or layer widths like 512,1024,1024,10; "
                  "real parameter layouts: resnet50, gpt2-small[:SEQ], bert-base[:SEQ] (transformers: --batch is "
                  "tokens per rank, whole sequences; SEQ default 1024 / 512)")
      ->capture_default_str();
  app->add_option("--algo", flags->algo,
                  "All-reduce algorithms, comma-separated: p2p-ring, p2p-tree, p2p-direct, nccl-ring, nccl-tree, "
                  "nccl-auto (default nccl-auto on cuda, p2p-ring on cpu)");
  app->add_option("-d,--dtype,--precision", flags->precision,
                  "Precisions, comma-separated: fp32, fp16, bf16 (fp32 master weights)")
      ->capture_default_str();
  app->add_option("--bucket-mb", flags->bucket_mb, "Gradient bucket caps in MiB, comma-separated (0: one bucket per tensor)")
      ->capture_default_str();
  app->add_option("--first-bucket-mb", flags->first_bucket_mb, "Cap of the first (last layers') bucket in MiB")
      ->check(number_in(0, 1 << 20))
      ->capture_default_str();
  app->add_option("--batch", flags->batch, "Per-rank batch sizes, comma-separated (weak scaling; default 32)");
  app->add_option("--global-batch", flags->global_batch,
                  "Global batch sizes, comma-separated (strong scaling: N ranks get global/N each)");
  app->add_flag("--no-overlap", flags->no_overlap, "Start all-reduces only after backward has finished (baseline)");
  app->add_option("--launch", flags->launch,
                  "How ranks are driven: thread-per-rank (a host thread per rank, as DDP) or single-thread")
      ->capture_default_str();
  app->add_flag("--dry-run", flags->dry_run,
                "Print the points with operations per stream per all-reduce; run nothing, write nothing");
  app->add_option("--optimizer", flags->optimizer, "sgd (momentum 0.9) or adamw")->capture_default_str();
  app->add_option("--lr", flags->lr, "Learning rate (default 0.05 for sgd, 1e-3 for adamw)")
      ->check(number_in(0, 10, /*above_lo=*/true));
  app->add_option("--seed", flags->seed, "Seed of the weights and the synthetic data")
      ->check(int_in(0, std::numeric_limits<long long>::max()))
      ->capture_default_str();
  app->add_option("--activation", flags->activation, "relu or gelu")->capture_default_str();
  app->add_option("--timeout", flags->timeout,
                  "Seconds a point may take; a point past it is recorded as timeout and the run stops (exit 1)")
      ->check(number_in(0, 1e6, /*above_lo=*/true));
  app->add_option("--loss-scale-init", flags->loss_scale_init, "fp16: initial loss scale")
      ->check(number_in(1e-30, 1e30))
      ->capture_default_str();
  app->add_option("--loss-scale-interval", flags->loss_scale_interval,
                  "fp16: clean steps before the loss scale doubles")
      ->check(int_in(1, std::numeric_limits<int>::max()))
      ->capture_default_str();
  add_sync_flags(*app, flags->sync);
  add_stopping_flags(*app, flags->stopping, default_stopping());
  add_output_flags(*app, flags->output);
  return {app, [flags](const Invocation& inv) { return run_train(*flags, inv); }};
}

}  // namespace dpb::cli
