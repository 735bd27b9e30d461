// `dpbench train`: the reference data-parallel training loop (an MLP on synthetic data, DDP-style
// gradient buckets overlapped with backward) swept over rank counts, bucket sizes, precisions,
// all-reduce algorithms and batch sizes. Same results file, stopping rule and flags as
// `dpbench allreduce`; the record layout is described in core/train/train_point.h.
#include <algorithm>
#include <iostream>
#include <limits>

#include "cli_backend.h"
#include "cli_sweep_flags.h"
#include "cli_train_sync.h"
#include "collectives/algorithm_rules.h"
#include "commands.h"
#include "results/results_file.h"
#include "sweep/lists.h"
#include "sweep/progress.h"
#include "sweep/sweep.h"
#include "system/system_info.h"
#include "train/bucket.h"
#include "train/train_plan_check.h"
#include "train/train_point.h"
#include "train/train_repeats.h"
#include "train/train_table.h"
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
  std::string first_bucket_mb = "1";
  std::string batch;         // empty: 32 (weak scaling)
  std::string global_batch;  // strong scaling
  bool no_overlap = false;
  std::string optimizer = "adamw";
  std::string lr;
  std::string seed = "1";
  std::string activation = "relu";
  std::string timeout;
  std::string loss_scale_init = "65536";
  std::string loss_scale_interval = "2000";
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

int run_train(const TrainFlags& f, const Invocation& inv) {
  // Everything is parsed and validated before anything is measured or written.
  const StoppingOptions stopping = parse_stopping_flags(f.stopping, default_stopping());
  const ModelSpec model = parse_model(f.model);
  const std::vector<DType> precisions =
      parse_list<DType>(f.precision, "--dtype", [](const std::string& s) { return parse_dtype(s); });
  const std::vector<double> bucket_mbs = parse_mb_list(f.bucket_mb, "--bucket-mb");
  const double first_bucket_mb = parse_double(f.first_bucket_mb, "--first-bucket-mb", 0, 1 << 20);
  if (!f.batch.empty() && !f.global_batch.empty()) {
    throw std::invalid_argument("--global-batch: cannot be combined with --batch (strong scaling fixes the global "
                                "batch and gives each of N ranks global/N samples)");
  }
  const Scaling scaling = f.global_batch.empty() ? Scaling::weak : Scaling::strong;
  const std::vector<int> batches =
      parse_positive_int_list(scaling == Scaling::weak ? (f.batch.empty() ? "32" : f.batch) : f.global_batch,
                              scaling == Scaling::weak ? "--batch" : "--global-batch");
  for (int b : batches) {
    if (b > (1 << 24)) {
      throw std::invalid_argument(std::string(scaling == Scaling::weak ? "--batch" : "--global-batch") + ": " +
                                  std::to_string(b) + " is above the limit of 16777216 samples");
    }
  }
  const OptimizerKind optimizer = parse_optimizer(f.optimizer);
  TrainBenchConfig config;
  const SyncSettings sync = parse_sync_flags(f.sync, config);
  for (DType p : precisions) {
    for (const auto& c : sync.comm_dtypes) {
      if (c && *c != p && p != DType::f32) {
        throw std::invalid_argument("--comm-dtype: compression applies to fp32 training (--precision " +
                                    std::string(dtype_name(p)) + " already all-reduces in " + std::string(dtype_name(p)) + ")");
      }
    }
  }
  for (int b : batches) {
    if (model.batch_multiple > 1 && scaling == Scaling::weak && b % model.batch_multiple != 0) {
      throw std::invalid_argument("--batch: " + model.name + " takes tokens per rank in whole sequences of " +
                                  std::to_string(model.batch_multiple) + "; " + std::to_string(b) + " is not a multiple");
    }
  }
  config.stopping = stopping;
  if (!f.lr.empty()) config.lr = static_cast<float>(parse_double(f.lr, "--lr", 0, 10));
  if (config.lr && !(*config.lr > 0)) throw std::invalid_argument("--lr: must be positive, got " + f.lr);
  config.seed = static_cast<std::uint64_t>(parse_int(f.seed, "--seed", 0, std::numeric_limits<long long>::max()));
  config.activation = parse_activation(f.activation);
  if (!f.timeout.empty()) {
    config.timeout_s = parse_double(f.timeout, "--timeout", 0, 1e6);
    if (!(*config.timeout_s > 0)) throw std::invalid_argument("--timeout: must be positive seconds, got " + f.timeout);
  }
  config.scaler.init_scale = static_cast<float>(parse_double(f.loss_scale_init, "--loss-scale-init", 1e-30, 1e30));
  config.scaler.growth_interval =
      static_cast<int>(parse_int(f.loss_scale_interval, "--loss-scale-interval", 1, std::numeric_limits<int>::max()));
  config.scaler.validate();
  const int repeats = parse_repeats_flag(f.stopping);
  validate_output_flags(f.output);
  const std::optional<ResultsLock> lock = lock_output(f.output);  // one writer per results file

  if (detect_process_launcher()) {  // every process would run the whole sweep and write the same file
    throw std::invalid_argument("train: a process per rank (mpirun/srun) is not implemented yet; run train in one "
                                "process (--gpus N: a thread per rank), or allreduce under mpirun");
  }
  BackendSetup setup = open_backend(f.backend, std::cerr);
  Backend& backend = *setup.backend;
  const std::vector<AlgorithmName> algos = parse_algo_flag(f.algo, backend);
  RankFlags rank_flags = f.ranks;
  if (rank_flags.gpus.empty() && rank_flags.devices.empty()) rank_flags.gpus = default_rank_counts(backend.device_count());
  RankPlan rank_plan = parse_rank_flags(rank_flags, backend.device_count(), backend.device_count());
  // 1-rank points first: later points of the same config compute their efficiency against them.
  std::sort(rank_plan.rank_counts.begin(), rank_plan.rank_counts.end());
  if (scaling == Scaling::strong) {
    for (int g : batches) {
      for (int n : rank_plan.rank_counts) {
        if (g % n != 0) {
          throw std::invalid_argument("--global-batch: " + std::to_string(g) + " is not divisible by " +
                                      std::to_string(n) + " ranks (--gpus)");
        }
      }
    }
  }

  config.launch = parse_launch(f.launch);
  TrainBench bench(backend, config);
  std::vector<SweepPoint> plan;
  std::vector<TrainPointSpec> specs;
  for (int n : rank_plan.rank_counts) {
    for (const auto& algo : algos) {
      for (DType precision : precisions) {
        for (double bucket_mb : bucket_mbs) {
          for (int b : batches) {
           for (int accum : sync.accums) {
            for (const auto& comm_dtype : sync.comm_dtypes) {
             for (LrScaling lr_scaling : sync.lr_scalings) {
            TrainPointSpec spec;
            spec.accum = accum;
            spec.comm_dtype = comm_dtype;
            spec.lr_scaling = lr_scaling;
            spec.model = model;
            spec.algo = algo;
            spec.precision = precision;
            spec.devices = rank_plan.devices_for(n);
            spec.bucket_mb = bucket_mb;
            spec.first_bucket_mb = first_bucket_mb;
            spec.batch = scaling == Scaling::weak ? b : b / n;
            spec.scaling = scaling;
            spec.overlap = !f.no_overlap;
            spec.optimizer = optimizer;
            specs.push_back(spec);
            plan.push_back(SweepPoint{train_point_id(spec), "train", train_label(spec), train_axes(spec),
                                      [&bench, spec] { return bench.run(spec); },
                                      [&bench, spec](std::vector<PointRecord> rounds) {
                                        return merge_train_rounds(std::move(rounds), bench, spec);
                                      }});
             }
            }
           }
          }
        }
      }
    }
  }
  validate_plan(plan);
  // Every point's replica must fit before the first one runs (a refusal names --model or --batch).
  try {
    if (!f.dry_run) check_train_plan(backend, specs);
  } catch (const SettingError& e) {
    throw flag_error(e, {{"batch", f.batch.empty() ? f.global_batch : f.batch}});
  }
  if (f.dry_run) {
    // The points, with the most operations one bucket's all-reduce puts on a stream.
    std::cout << "# dry run: " << specs.size() << " points; nothing is measured and no results file is written\n"
              << "# point  ops/stream  buckets\n";
    for (const TrainPointSpec& spec : specs) {
      const BucketPlan buckets = assign_buckets(spec.model.params(), dtype_size(spec.precision),
                                                mib_to_bytes(spec.bucket_mb), mib_to_bytes(spec.first_bucket_mb));
      std::cout << train_label(spec) << "  " << bench.max_ops_per_bucket(spec, buckets) << "  "
                << buckets.buckets.size() << "\n";
    }
    return 0;
  }

  nlohmann::json options = backend_options_json(f.backend);
  options["gpus"] = rank_plan.rank_counts;
  options["devices"] = rank_plan.devices ? nlohmann::json(*rank_plan.devices) : nlohmann::json(nullptr);
  options["model"] = model.name;
  options["widths"] = model.widths;
  options["param_count"] = model.param_count();
  options["activation"] = activation_name(model.is_mlp() ? config.activation : model.activation);
  options["algo"] = algo_texts(algos);
  std::vector<std::string> precision_names;
  for (DType d : precisions) precision_names.emplace_back(dtype_name(d));
  options["precision"] = precision_names;
  options["bucket_mb"] = bucket_mbs;
  options["first_bucket_mb"] = first_bucket_mb;
  options[scaling == Scaling::weak ? "batch" : "global_batch"] = batches;
  options["scaling"] = scaling_name(scaling);
  options["overlap"] = !f.no_overlap;
  options["optimizer"] = optimizer_name(optimizer);
  options["lr"] = float_as_decimal(default_optimizer(optimizer, config.lr).lr);
  options["seed"] = config.seed;
  options["timeout_s"] = config.timeout_s ? nlohmann::json(*config.timeout_s) : nlohmann::json(nullptr);
  options["loss_scale_init"] = config.scaler.init_scale;
  options["loss_scale_interval"] = config.scaler.growth_interval;
  options["stopping"] = stopping_options_json(stopping);
  options["launch"] = launch_name(config.launch);
  if (repeats > 1) options["repeats"] = repeats;  // absent = 1, as in files written before --repeats
  add_sync_options(options, sync, config);
  options["tensor_count"] = model.params().size();

  std::optional<ResultsFile> results = open_results_file(
      f.output, ResultsHeader{"train", inv.argv, options, describe_system(backend, rank_plan.distinct_devices())});
  if (results) {
    for (const auto& p : results->document().value("points", nlohmann::json::array())) bench.remember(p);
  }

  std::cout << "# dpbench train  backend: " << backend.name() << " (" << setup.choice.why << ")\n"
 << "# model " << model.name << ": " << (model.is_mlp() ? "widths " + nlohmann::json(model.widths).dump() : model.what)
            << ", " << model.param_count() << " parameters in " << model.params().size() << " tensors, "
            << model.flops_per_sample() / 1e9 << " GFLOP/sample, " << options["activation"].get<std::string>() << "; optimizer "
            << optimizer_name(optimizer) << " lr " << options["lr"].get<double>() << "; seed " << config.seed << "\n"
            << "# " << plan.size() << " points; stopping: warm-up " << stopping.warmup_iters << " steps, then "
            << (stopping.fixed_iters ? "exactly " + std::to_string(*stopping.fixed_iters) + " steps"
                                     : "until rel. std. error <= " + CLI::detail::to_string(stopping.max_noise * 100) +
                                           "% (min " + std::to_string(stopping.min_iters) + " steps) or " +
                                           CLI::detail::to_string(stopping.max_time_s) + " s")
            << (repeats > 1 ? "; " + std::to_string(repeats) + " interleaved rounds per point" : "") << "\n";
  if (results && results->resumed_points() > 0) {
    std::cout << "# resumed: " << results->resumed_points() << " points already in " << f.output.out << "\n";
  }
  std::cout.flush();

  std::vector<nlohmann::json> finished;
  SweepOptions so;
  so.results = results ? &*results : nullptr;
  so.progress = &std::cerr;
  so.progress_tty = stderr_is_tty();
  so.repeats = repeats;
  so.on_record = [&](const PointRecord& rec) {
    finished.push_back(rec.to_json());
    // Fewer steps than asked for are never silent (measure/stopping.h).
    if (rec.stopping && rec.stopping->contains("shortfall")) {
      std::cout << "# note: " << rec.id << ": " << (*rec.stopping)["shortfall"].get<std::string>() << "\n";
    }
  };
  // A timed-out point aborted the communicator (and the cpu backend): nothing more can run.
  so.stop_after = [](const PointRecord& rec) { return rec.status == PointStatus::timeout; };
  const SweepOutcome outcome = run_sweep(plan, so);

  // The table lists the plan's points in plan order, including those carried over by --resume.
  std::vector<nlohmann::json> rows;
  for (const auto& p : plan) {
    const nlohmann::json* found = nullptr;
    for (const auto& j : finished) {
      if (j.value("id", "") == p.id) found = &j;
    }
    if (!found && results) {
      for (const auto& j : results->document()["points"]) {
        if (j.value("id", "") == p.id) found = &j;
      }
    }
    if (found) rows.push_back(*found);
  }
  print_train_summary(std::cout, rows);
  std::cout << "# points: " << outcome.ok << " ok, " << outcome.failed << " failed";
  if (outcome.timeout) std::cout << ", " << outcome.timeout << " timed out (sweep stopped)";
  if (outcome.already_done) std::cout << ", " << outcome.already_done << " already in the results file";
  std::cout << "\n";
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
  app->add_option("--lr", flags->lr, "Learning rate (default 0.05 for sgd, 1e-3 for adamw)");
  app->add_option("--seed", flags->seed, "Seed of the weights and the synthetic data")->capture_default_str();
  app->add_option("--activation", flags->activation, "relu or gelu")->capture_default_str();
  app->add_option("--timeout", flags->timeout,
                  "Seconds a point may take; a point past it is recorded as timeout and the run stops (exit 1)");
  app->add_option("--loss-scale-init", flags->loss_scale_init, "fp16: initial loss scale")->capture_default_str();
  app->add_option("--loss-scale-interval", flags->loss_scale_interval,
                  "fp16: clean steps before the loss scale doubles")
      ->capture_default_str();
  add_sync_flags(*app, flags->sync);
  add_stopping_flags(*app, flags->stopping, default_stopping());
  add_output_flags(*app, flags->output);
  return {app, [flags](const Invocation& inv) { return run_train(*flags, inv); }};
}

}  // namespace dpb::cli
