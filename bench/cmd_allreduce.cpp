// `dpbench allreduce`: all-reduce bandwidth over ranks x algorithms x dtypes x sizes x placement,
// like nccl-tests' all_reduce_perf (same algbw/busbw definitions, in-place and out-of-place, a
// wrong-element count per point), with adaptive repetition and an atomic results file.
#include <algorithm>
#include <functional>
#include <iomanip>
#include <iostream>
#include <set>

#include "cli_backend.h"
#include "cli_lists.h"
#include "cli_sizes.h"
#include "cli_sweep_flags.h"
#include "cli_world.h"
#include "collectives/algorithm_rules.h"
#include "collectives/schedule.h"
#include "commands.h"
#include "graph/graph_capture.h"
#include "results/results_file.h"
#include "sweep/allreduce_metrics.h"
#include "sweep/allreduce_plan_check.h"
#include "sweep/allreduce_point.h"
#include "sweep/allreduce_table.h"
#include "sweep/allreduce_world_point.h"
#include "sweep/progress.h"
#include "sweep/sizes.h"
#include "sweep/text_format.h"
#include "sweep/sweep.h"
#include "system/system_info.h"

namespace dpb::cli {

namespace {

// The shared defaults (measure/stopping.h): warm-up 3, then until the mean is known to 1%, with
// at least 5 and at most 1000 calls and at most 0.25 s per point. They keep the full cpu-backend
// sweep (4 rank counts x 3 algorithms x 1K..64M, 408 points) to a couple of minutes on 2 cores;
// on GPUs calls are short and the noise rule or the 1000-call cap usually stops first.
StoppingOptions default_stopping() { return StoppingOptions{}; }

struct AllreduceFlags {
  BackendFlags backend;
  RankFlags ranks;
  SizeFlags sizes;
  StoppingFlags stopping;
  OutputFlags output;
  std::string algo;   // empty: nccl-auto on cuda, p2p-ring on cpu
  std::string dtype = "fp32";
  bool in_place_only = false, out_of_place_only = false;
  int graph = 0;
  std::string graph_capture = "auto";
  bool no_check = false;
  int check = 1;  // nccl-tests' -c: 0 = no correctness check
  std::string pattern = "integers";
  std::string chunk_bytes;
  std::string launch = "thread-per-rank";
  bool dry_run = false;
  bool nccl_multi_rank_gpu = false;
  std::optional<double> timeout;  // seconds; unset: no limit
};

// --dry-run: the points, one line each, with what one call puts on the busiest stream and the p2p
// scratch per rank, so a long GPU run's plan can be checked first.
// "16", "1M", "432.5M": exact where a unit divides the size, else one decimal of the largest unit.
std::string approx_size(std::size_t bytes) {
  if (bytes == 0) return "-";
  const std::string exact = format_size(bytes);
  if (exact != std::to_string(bytes) || bytes < 1024) return exact;
  const char* units[] = {"K", "M", "G"};
  double v = static_cast<double>(bytes);
  int u = -1;
  while (v >= 1024 && u < 2) {
    v /= 1024;
    ++u;
  }
  return format_number("%.1f", v) + units[u];
}

void print_dry_run(std::ostream& os, const std::vector<AllreducePointSpec>& specs, const CommunicatorOptions& options) {
  os << "# dry run: " << specs.size() << " points; nothing is measured and no results file is written\n";
  os << std::left << std::setw(44) << "# point" << std::right << std::setw(11) << "ops/stream" << std::setw(14)
     << "scratch/rank" << std::setw(10) << "chunk" << "\n";
  for (const AllreducePointSpec& spec : specs) {
    const CallPlan p = plan_allreduce_call(spec.algo, spec.ranks(), spec.dtype, spec.count, spec.in_place, options);
    os << std::left << std::setw(44) << allreduce_label(spec) << std::right << std::setw(11) << p.ops_per_stream
       << std::setw(14) << approx_size(p.scratch_bytes) << std::setw(10) << approx_size(p.chunk_bytes) << "\n";
  }
}

InputPattern parse_pattern(const std::string& s) {
  if (s == "integers") return InputPattern::integers;
  if (s == "fractions") return InputPattern::fractions;
  throw std::invalid_argument("--check-pattern: unknown pattern '" + s + "' (expected integers or fractions)");
}

// The flags as typed values: every flag that needs no backend is parsed (and refused) here, before
// the backend measures anything or a file is written.
struct AllreduceSettings {
  SizeRange sizes;
  StoppingOptions stopping;
  std::vector<DType> dtypes;
  int graph = 0;
  std::optional<GraphCapture> graph_capture;  // empty: auto
  InputPattern pattern = InputPattern::integers;
  std::vector<bool> placements;  // in_place values, out of place first
  CommunicatorOptions communicator;
  bool check = true;
  int repeats = 1;
  std::optional<double> timeout_s;
  Launch launch = Launch::thread_per_rank;
};

AllreduceSettings parse_settings(const AllreduceFlags& f) {
  AllreduceSettings s;
  s.sizes = parse_size_flags(f.sizes);
  s.stopping = parse_stopping_flags(f.stopping, default_stopping());
  s.dtypes = parse_list<DType>(f.dtype, "--dtype", [](const std::string& t) { return parse_dtype(t); });
  s.graph = f.graph;
  s.pattern = parse_pattern(f.pattern);
  if (f.in_place_only && f.out_of_place_only) {
    throw std::invalid_argument("--inplace: cannot be combined with --out-of-place (leave both out to run both)");
  }
  if (!f.in_place_only) s.placements.push_back(false);
  if (!f.out_of_place_only) s.placements.push_back(true);
  if (!f.chunk_bytes.empty()) s.communicator.chunk_bytes = parse_size(f.chunk_bytes, "--chunk-bytes");
  s.communicator.nccl_multi_rank_gpu = f.nccl_multi_rank_gpu;
  s.check = !f.no_check && f.check != 0;
  s.repeats = f.stopping.repeats;
  s.timeout_s = f.timeout;
  validate_output_flags(f.output);
  if (f.graph_capture != "auto") s.graph_capture = parse_graph_capture(f.graph_capture, "--graph-capture");
  s.launch = parse_launch(f.launch);
  return s;
}

// The whole plan must fit before the first point runs: a sweep that cannot is refused at once, not
// after a hundred failed points (or the host's OOM killer).
void check_plan_fits(Backend& backend, const AllreduceSettings& s, const RankPlan& rank_plan, const AllreduceFlags& f) {
  AllreducePlanShape shape{{}, s.dtypes, s.sizes.min_bytes, s.sizes.max_bytes, s.check};
  for (int n : rank_plan.rank_counts) shape.device_lists.push_back(rank_plan.devices_for(n));
  try {
    check_allreduce_plan(backend, shape);
  } catch (const SettingError& e) {
    throw flag_error(e, {{"max_bytes", f.sizes.max_bytes}});
  }
}

AllreduceConfig make_config(const AllreduceSettings& s) {
  AllreduceConfig config;
  config.stopping = s.stopping;
  config.check = s.check;
  config.pattern = s.pattern;
  config.max_bytes = s.sizes.max_bytes;
  config.communicator = s.communicator;
  config.graph_capture = s.graph_capture;
  config.launch = s.launch;
  config.timeout_s = s.timeout_s;
  return config;
}

// Runs a point in this process, or with a process per rank (mpirun/srun) this rank's part of it.
struct AllreduceRunners {
  AllreduceBench& bench;
  WorldAllreduceBench* world;
  PointRecord run(const AllreducePointSpec& spec) const { return world ? world->run(spec) : bench.run(spec); }
};

// The points (declare): ranks, dtype, size, then algorithm and placement innermost, so the
// algorithms are compared side by side at each size and the host inputs/reference of a size are
// made once. The communicators of all --algo entries stay cached while a rank count runs.
std::vector<AllreducePointSpec> declare_points(const AllreduceSettings& s, const std::vector<AlgorithmName>& algos,
                                               const std::vector<std::vector<int>>& device_lists) {
  std::vector<AllreducePointSpec> specs;
  for (const std::vector<int>& devices : device_lists) {
    for (DType dtype : s.dtypes) {
      std::set<std::size_t> counts;  // sizes below one element collapse onto the same count
      for (std::size_t bytes : s.sizes.sizes()) {
        const std::size_t count = element_count(bytes, dtype_size(dtype));
        if (!counts.insert(count).second) continue;
        for (const auto& algo : algos) {
          for (bool in_place : s.placements) specs.push_back({algo, dtype, devices, count, in_place, s.graph});
        }
      }
    }
  }
  return specs;
}

std::vector<SweepPoint> sweep_points(const std::vector<AllreducePointSpec>& specs, AllreduceRunners runners) {
  std::vector<SweepPoint> plan;
  for (const AllreducePointSpec& spec : specs) {
    plan.push_back(SweepPoint{allreduce_point_id(spec), "allreduce", allreduce_label(spec), allreduce_axes(spec),
                              [runners, spec] { return runners.run(spec); }, merge_allreduce_rounds});
  }
  return plan;
}

// The results file's `options`: every setting of the run, typed.
nlohmann::json options_json(const AllreduceFlags& f, const AllreduceSettings& s, const std::vector<AlgorithmName>& algos,
                            const RankPlan& rank_plan, const WorldAllreduceBench* world) {
  nlohmann::json options = backend_options_json(f.backend);
  options["gpus"] = world ? std::vector<int>{static_cast<int>(world->devices().size())} : rank_plan.rank_counts;
  options["devices"] = world ? nlohmann::json(world->devices())
                       : rank_plan.devices ? nlohmann::json(*rank_plan.devices) : nlohmann::json(nullptr);
  options["algo"] = algo_texts(algos);
  std::vector<std::string> dtype_names;
  for (DType d : s.dtypes) dtype_names.emplace_back(dtype_name(d));
  options["dtype"] = dtype_names;
  options["min_bytes"] = s.sizes.min_bytes;
  options["max_bytes"] = s.sizes.max_bytes;
  options["factor"] = s.sizes.factor;
  options["placement"] = f.in_place_only ? "in-place" : f.out_of_place_only ? "out-of-place" : "both";
  options["graph"] = s.graph;
  options["graph_capture"] = s.graph_capture ? std::string(graph_capture_name(*s.graph_capture)) : std::string("auto");
  options["check"] = s.check;
  options["check_pattern"] = input_pattern_name(s.pattern);
  options["chunk_bytes"] = s.communicator.chunk_bytes;
  options["launch"] = launch_name(world ? Launch::process_per_rank : s.launch);
  options["nccl_multi_rank_gpu"] = f.nccl_multi_rank_gpu;
  options["timeout_s"] = s.timeout_s ? nlohmann::json(*s.timeout_s) : nlohmann::json(nullptr);
  options["stopping"] = stopping_options_json(s.stopping);
  if (s.repeats > 1) options["repeats"] = s.repeats;  // absent = 1, as in files written before --repeats
  return options;
}

// The console table's header lines.
std::vector<std::string> header_lines(const AllreduceSettings& s, const BackendSetup& setup, const World* world,
                                      const std::optional<ResultsFile>& results, const OutputFlags& output) {
  std::vector<std::string> header = {
      "dpbench allreduce  backend: " + std::string(setup.backend->name()) + " (" + setup.choice.why + ")",
      world ? "time: median per call of the slowest rank (each rank's own events from a common barrier)"
            : "time: median per call, device events on rank 0 from a common start to the last rank's end",
      "host: median host time to enqueue one call (the slowest rank's thread); 'host-bound' where host >= time",
      "launch: " + std::string(launch_name(world ? Launch::process_per_rank : s.launch)) +
          (world ? " (" + std::to_string(world->size()) + " ranks, " + world->library() + ")" : std::string()) +
          "; p2p calls put at most " + std::to_string(kMaxOpsPerStream) + " operations on a stream (--dry-run lists them)",
      "algbw = bytes / time, busbw = algbw x 2(n-1)/n (GB = 1e9 bytes); #wrong: elements off the host reference",
      "stopping: " + stopping_text(s.stopping, "calls") +
          (s.repeats > 1 ? "; " + std::to_string(s.repeats) + " interleaved rounds per point" : "")};
  if (results && results->resumed_points() > 0) {
    header.push_back("resumed: " + std::to_string(results->resumed_points()) + " points already in " + output.out);
  }
  return header;
}

// The console table's rows, from the records (print): a group line whenever the devices change.
std::function<void(const PointRecord&)> table_printer(std::ostream& os) {
  return [&os, last_devices = std::vector<int>{}](const PointRecord& rec) mutable {
    const auto devices = rec.axes.value("devices", std::vector<int>{});
    if (devices != last_devices) {
      print_allreduce_group(os, devices);
      last_devices = devices;
    }
    print_allreduce_row(os, rec);
  };
}

void print_outcome(std::ostream& os, const SweepOutcome& outcome, const OutputFlags& output,
                   const std::optional<ResultsFile>& results) {
  os << "# points: " << outcome.ok << " ok, " << outcome.failed << " failed";
  if (outcome.timeout) os << ", " << outcome.timeout << " timed out (sweep stopped)";
  if (outcome.already_done) os << ", " << outcome.already_done << " already in the results file";
  os << "\n";
  os << results_location_line(output, results);
}

// Opens the results file (resuming it when asked); with a process per rank, rank 0 decides which
// points are done and the other ranks drop them.
std::optional<ResultsFile> open_results(const AllreduceFlags& f, const Invocation& inv, nlohmann::json options,
                                        Backend& backend, const RankPlan& rank_plan, World* world,
                                        const WorldAllreduceBench* world_bench, std::vector<SweepPoint>& plan) {
  if (!world) {
    return open_results_file(f.output, ResultsHeader{"allreduce", inv.argv, std::move(options),
                                                     describe_system(backend, rank_plan.distinct_devices()),
                                                     allreduce_point_axes().order()});
  }
  std::set<std::string> done;  // ids already in the file (rank 0's verdict)
  nlohmann::json system = describe_system(backend, {world_bench->devices()[0]});
  describe_world(system, *world, world_bench->devices());
  auto results =
      open_world_results_file(*world, f.output, ResultsHeader{"allreduce", inv.argv, std::move(options), system, allreduce_point_axes().order()}, done);
  if (world->rank() != 0) drop_done_points(plan, done);
  return results;
}

// Runs the points (measure, then each record printed as it lands); returns the exit status, which
// with a process per rank is rank 0's verdict on every rank.
int run_points(const std::vector<SweepPoint>& plan, SweepOptions so, World* world, bool leader,
               const AllreduceFlags& f, const std::optional<ResultsFile>& results) {
  if (plan.empty()) {  // ranks other than 0 when everything was already recorded
    std::string code = "0";
    if (world) world->broadcast(code, 0);
    return std::stoi(code);
  }
  const SweepOutcome outcome = run_sweep(plan, so);
  if (world) {  // every rank exits with rank 0's verdict
    std::string code = outcome.all_ok() ? "0" : "1";
    world->broadcast(code, 0);
    if (!leader) return std::stoi(code);
  }
  print_outcome(std::cout, outcome, f.output, results);
  return outcome.all_ok() ? 0 : 1;
}

int run_allreduce(const AllreduceFlags& f, const Invocation& inv) {
  const AllreduceSettings s = parse_settings(f);
  // Process per rank (mpirun/srun): this process is one rank; rank 0 prints and writes.
  std::unique_ptr<World> world = open_world_if_launched();
  const bool leader = !world || world->rank() == 0;
  // One writer per results file: the leader holds the lock.
  const std::optional<ResultsLock> lock = leader ? lock_output(f.output) : std::nullopt;

  std::ostream quiet(nullptr);  // ranks other than 0 say nothing about the backend
  BackendSetup setup = open_backend(f.backend, leader ? std::cerr : quiet);
  Backend& backend = *setup.backend;
  const std::vector<AlgorithmName> algos = parse_algo_flag(f.algo, backend);
  check_world_algorithms(algos, world.get());
  if (s.graph > 0) {
    if (auto why = graph_capture_unsupported(backend)) throw std::invalid_argument("--graph: " + *why);
  }
  const RankPlan rank_plan = parse_rank_flags(f.ranks, backend.device_count(), backend.device_count());
  // A dry run only prints the plan (it is how a plan for a bigger machine is checked).
  if (!f.dry_run) check_plan_fits(backend, s, rank_plan, f);

  const AllreduceConfig config = make_config(s);
  AllreduceBench bench(backend, config, std::max<std::size_t>(algos.size(), 4));
  std::unique_ptr<WorldAllreduceBench> world_bench;
  if (world) world_bench = std::make_unique<WorldAllreduceBench>(backend, *world, config, world_device(*world, backend.device_count()));
  std::vector<std::vector<int>> device_lists;
  if (world) device_lists.push_back(world_bench->devices());
  for (int n : world ? std::vector<int>{} : rank_plan.rank_counts) device_lists.push_back(rank_plan.devices_for(n));
  const std::vector<AllreducePointSpec> specs = declare_points(s, algos, device_lists);
  std::vector<SweepPoint> plan = sweep_points(specs, {bench, world_bench.get()});
  validate_plan(plan);
  if (f.dry_run) {
    if (leader) print_dry_run(std::cout, specs, s.communicator);
    return 0;
  }

  std::optional<ResultsFile> results = open_results(f, inv, options_json(f, s, algos, rank_plan, world_bench.get()),
                                                    backend, rank_plan, world.get(), world_bench.get(), plan);
  JobWatchdog watchdog;
  if (world && s.timeout_s) guard_points(plan, *world, watchdog, *s.timeout_s, results ? &*results : nullptr);
  if (leader) print_allreduce_header(std::cout, header_lines(s, setup, world.get(), results, f.output));

  SweepOptions so;
  so.results = results ? &*results : nullptr;
  so.progress = leader ? &std::cerr : nullptr;
  so.progress_tty = stderr_is_tty();
  so.repeats = s.repeats;
  // A timed-out call aborted the communicator (and the cpu backend): nothing more can run.
  so.stop_after = [](const PointRecord& rec) { return rec.status == PointStatus::timeout; };
  if (leader) so.on_record = table_printer(std::cout);
  return run_points(plan, std::move(so), world.get(), leader, f, results);
}

}  // namespace

Command add_allreduce_command(CLI::App& root) {
  auto flags = std::make_shared<AllreduceFlags>();
  auto* app = root.add_subcommand("allreduce",
                                  "All-reduce bandwidth sweep (nccl-tests style, custom and NCCL algorithms). Exit "
                                  "status 0 when every point is ok, 1 when any failed or had wrong elements, 2 for "
                                  "bad options");
  add_backend_flags(*app, flags->backend);
  add_rank_flags(*app, flags->ranks);
  add_size_flags(*app, flags->sizes);
  app->add_option("--algo", flags->algo,
                  "Algorithms, comma-separated: p2p-ring, p2p-tree, p2p-direct, nccl-ring, nccl-tree, nccl-auto, mpi (the MPI "
                  "library's MPI_Allreduce, under mpirun/srun) "
                  "(default nccl-auto on cuda, p2p-ring on cpu)");
  app->add_option("-d,--dtype,--precision", flags->dtype, "Element types, comma-separated: fp32, fp16, bf16")
      ->capture_default_str();
  app->add_flag("--inplace", flags->in_place_only, "Only in-place calls (default: both in-place and out-of-place)");
  app->add_flag("--out-of-place", flags->out_of_place_only, "Only out-of-place calls");
  app->add_option("-G,--graph", flags->graph, "Capture this many calls per CUDA graph launch (cuda backend; 0 = off)")
      ->check(int_in(0, 1 << 20))
      ->capture_default_str();
  app->add_option("--graph-capture", flags->graph_capture,
                  "With --graph: auto (per_stream for nccl-*, as NCCL advises one GPU per capture; fork_join for "
                  "p2p-*), fork_join (one graph over all rank streams) or per_stream (one per stream, as nccl-tests)")
      ->capture_default_str();
  app->add_flag("--no-check", flags->no_check, "Skip the correctness check against the host reference (as -c 0)");
  app->add_option("-c,--check", flags->check,
                  "Check results against the host reference: 1 (default) or 0 (as nccl-tests)")
      ->check(int_in(0, 1 << 20))
      ->capture_default_str();
  app->add_option("--check-pattern", flags->pattern,
                  "Check inputs: integers (exact sums, tolerance 0) or fractions (16-bit sums round)")
      ->capture_default_str();
  app->add_option("--chunk-bytes", flags->chunk_bytes,
                  "p2p algorithms: pipeline chunk size (default 1M; grown at large sizes so one call puts at most "
                  "256 operations on a stream)");
  app->add_option("--launch", flags->launch,
                  "How ranks are driven: thread-per-rank (a host thread per rank, as DDP) or single-thread")
      ->capture_default_str();
  app->add_flag("--nccl-multi-rank-gpu", flags->nccl_multi_rank_gpu,
                "nccl-*: allow several ranks on one GPU (NCCL >= 2.30, NCCL_MULTI_RANK_GPU_ENABLE=1; experimental, "
                "such points are marked functional-only)");
  app->add_flag("--dry-run", flags->dry_run,
                "Print the points with operations per stream and scratch per rank; run nothing, write nothing");
  app->add_option("--timeout", flags->timeout,
                  "Seconds a point may take; a point past it is recorded as timeout and the run stops (exit 1)")
      ->check(number_in(0, 1e6, /*above_lo=*/true));
  add_stopping_flags(*app, flags->stopping, default_stopping());
  add_output_flags(*app, flags->output);
  return {app, [flags](const Invocation& inv) { return run_allreduce(*flags, inv); }};
}

}  // namespace dpb::cli
