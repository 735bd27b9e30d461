// `dpbench allreduce`: all-reduce bandwidth over ranks x algorithms x dtypes x sizes x placement,
// like nccl-tests' all_reduce_perf (same algbw/busbw definitions, in-place and out-of-place, a
// wrong-element count per point), with adaptive repetition and an atomic results file.
#include <algorithm>
#include <iomanip>
#include <iostream>
#include <set>

#include "cli_backend.h"
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
#include "sweep/lists.h"
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
  std::string graph = "0";
  std::string graph_capture = "auto";
  bool no_check = false;
  std::string check = "1";  // nccl-tests' -c: 0 = no correctness check
  std::string pattern = "integers";
  std::string chunk_bytes;
  std::string launch = "thread-per-rank";
  bool dry_run = false;
  bool nccl_multi_rank_gpu = false;
  std::string timeout;  // empty: no limit
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

int run_allreduce(const AllreduceFlags& f, const Invocation& inv) {
  // Everything is parsed and validated before the backend measures anything or a file is written.
  const SizeRange sizes = parse_size_flags(f.sizes);
  const StoppingOptions stopping = parse_stopping_flags(f.stopping, default_stopping());
  const std::vector<DType> dtypes = parse_list<DType>(f.dtype, "--dtype", [](const std::string& s) { return parse_dtype(s); });
  const int graph = static_cast<int>(parse_int(f.graph, "--graph", 0, 1 << 20));
  const InputPattern pattern = parse_pattern(f.pattern);
  if (f.in_place_only && f.out_of_place_only) {
    throw std::invalid_argument("--inplace: cannot be combined with --out-of-place (leave both out to run both)");
  }
  std::vector<bool> placements;
  if (!f.in_place_only) placements.push_back(false);
  if (!f.out_of_place_only) placements.push_back(true);
  CommunicatorOptions comm_options;
  if (!f.chunk_bytes.empty()) comm_options.chunk_bytes = parse_size(f.chunk_bytes, "--chunk-bytes");
  comm_options.nccl_multi_rank_gpu = f.nccl_multi_rank_gpu;
  const bool check = !f.no_check && parse_int(f.check, "-c/--check", 0, 1 << 20) != 0;
  const int repeats = parse_repeats_flag(f.stopping);
  std::optional<double> timeout_s;
  if (!f.timeout.empty()) {
    timeout_s = parse_double(f.timeout, "--timeout", 0, 1e6);
    if (!(*timeout_s > 0)) throw std::invalid_argument("--timeout: must be positive seconds, got " + f.timeout);
  }
  validate_output_flags(f.output);

  // Process per rank (mpirun/srun): this process is one rank; rank 0 prints and writes.
  std::unique_ptr<World> world = open_world_if_launched();
  const bool leader = !world || world->rank() == 0;
  // One writer per results file: the leader holds the lock.
  const std::optional<ResultsLock> lock = leader ? lock_output(f.output) : std::nullopt;

  std::ostream quiet(nullptr);  // ranks other than 0 say nothing about the backend
  BackendSetup setup = open_backend(f.backend, leader ? std::cerr : quiet);
  Backend& backend = *setup.backend;
  const std::vector<AlgorithmName> algos = parse_algo_flag(f.algo, backend);
  for (const AlgorithmName& a : algos) {
    if (a.transport == Transport::mpi && !world) {
      throw std::invalid_argument("--algo mpi: needs a process per rank: run dpbench under mpirun or srun");
    }
    if (a.transport == Transport::p2p && world && !world->single_node()) {
      throw std::invalid_argument("--algo " + a.text() + ": the ranks span several nodes; p2p-* stops at the node "
                                  "boundary (shared memory / CUDA IPC): across nodes use nccl-* or mpi");
    }
  }
  const std::optional<GraphCapture> graph_capture =
      f.graph_capture == "auto" ? std::nullopt : std::optional(parse_graph_capture(f.graph_capture, "--graph-capture"));
  if (graph > 0) {
    if (auto why = graph_capture_unsupported(backend)) throw std::invalid_argument("--graph: " + *why);
  }
  const RankPlan rank_plan = parse_rank_flags(f.ranks, backend.device_count(), backend.device_count());
  // The whole plan must fit before the first point runs: a sweep that cannot is refused at once,
  // not after a hundred failed points (or the host's OOM killer). A dry run only prints the plan
  // (it is how a plan for a bigger machine is checked).
  AllreducePlanShape shape{{}, dtypes, sizes.min_bytes, sizes.max_bytes, check};
  for (int n : rank_plan.rank_counts) shape.device_lists.push_back(rank_plan.devices_for(n));
  try {
    if (!f.dry_run) check_allreduce_plan(backend, shape);
  } catch (const SettingError& e) {
    throw flag_error(e, {{"max_bytes", f.sizes.max_bytes}});
  }

  // The plan: ranks, dtype, size, then algorithm and placement innermost, so the algorithms are
  // compared side by side at each size and the host inputs/reference of a size are made once. The
  // communicators of all --algo entries stay cached (CommunicatorCache) while a rank count runs.
  AllreduceConfig config;
  config.stopping = stopping;
  config.check = check;
  config.pattern = pattern;
  config.max_bytes = sizes.max_bytes;
  config.communicator = comm_options;
  config.graph_capture = graph_capture;
  config.launch = parse_launch(f.launch);
  config.timeout_s = timeout_s;
  AllreduceBench bench(backend, config, std::max<std::size_t>(algos.size(), 4));
  std::unique_ptr<WorldAllreduceBench> world_bench;
  if (world) world_bench = std::make_unique<WorldAllreduceBench>(backend, *world, config, world_device(*world, backend.device_count()));
  std::vector<SweepPoint> plan;
  std::vector<AllreducePointSpec> specs;
  for (int n : world ? std::vector<int>{world->size()} : rank_plan.rank_counts) {
    const std::vector<int> devices = world ? world_bench->devices() : rank_plan.devices_for(n);
    for (DType dtype : dtypes) {
      std::set<std::size_t> counts;  // sizes below one element collapse onto the same count
      for (std::size_t bytes : sizes.sizes()) {
        const std::size_t count = element_count(bytes, dtype_size(dtype));
        if (!counts.insert(count).second) continue;
        for (const auto& algo : algos) {
          for (bool in_place : placements) {
            AllreducePointSpec spec{algo, dtype, devices, count, in_place, graph};
            specs.push_back(spec);
            plan.push_back(SweepPoint{allreduce_point_id(spec), "allreduce", allreduce_label(spec), allreduce_axes(spec),
                                      [&bench, &world_bench, spec] {
                                        return world_bench ? world_bench->run(spec) : bench.run(spec);
                                      },
                                      merge_allreduce_rounds});
          }
        }
      }
    }
  }
  validate_plan(plan);
  if (f.dry_run) {
    if (leader) print_dry_run(std::cout, specs, comm_options);
    return 0;
  }

  nlohmann::json options = backend_options_json(f.backend);
  options["gpus"] = world ? std::vector<int>{world->size()} : rank_plan.rank_counts;
  options["devices"] = world ? nlohmann::json(world_bench->devices())
                       : rank_plan.devices ? nlohmann::json(*rank_plan.devices) : nlohmann::json(nullptr);
  options["algo"] = algo_texts(algos);
  std::vector<std::string> dtype_names;
  for (DType d : dtypes) dtype_names.emplace_back(dtype_name(d));
  options["dtype"] = dtype_names;
  options["min_bytes"] = sizes.min_bytes;
  options["max_bytes"] = sizes.max_bytes;
  options["factor"] = sizes.factor;
  options["placement"] = f.in_place_only ? "in-place" : f.out_of_place_only ? "out-of-place" : "both";
  options["graph"] = graph;
  options["graph_capture"] = graph_capture ? std::string(graph_capture_name(*graph_capture)) : std::string("auto");
  options["check"] = config.check;
  options["check_pattern"] = input_pattern_name(pattern);
  options["chunk_bytes"] = comm_options.chunk_bytes;
  options["launch"] = launch_name(world ? Launch::process_per_rank : config.launch);
  options["nccl_multi_rank_gpu"] = f.nccl_multi_rank_gpu;
  options["timeout_s"] = timeout_s ? nlohmann::json(*timeout_s) : nlohmann::json(nullptr);
  options["stopping"] = stopping_options_json(stopping);
  if (repeats > 1) options["repeats"] = repeats;  // absent = 1, as in files written before --repeats

  std::optional<ResultsFile> results;
  std::set<std::string> done;  // ids already in the file (process per rank: rank 0's verdict)
  if (world) {
    nlohmann::json system = describe_system(backend, {world_bench->devices()[0]});
    describe_world(system, *world, world_bench->devices());
    results = open_world_results_file(*world, f.output, ResultsHeader{"allreduce", inv.argv, options, system}, done);
    if (!leader) drop_done_points(plan, done);
  } else {
    results = open_results_file(
        f.output, ResultsHeader{"allreduce", inv.argv, options, describe_system(backend, rank_plan.distinct_devices())});
  }
  JobWatchdog watchdog;
  if (world && timeout_s) guard_points(plan, *world, watchdog, *timeout_s, results ? &*results : nullptr);

  std::string stop_text = stopping.fixed_iters
                              ? "warm-up " + std::to_string(stopping.warmup_iters) + ", then exactly " +
                                    std::to_string(*stopping.fixed_iters) + " timed calls"
                              : "warm-up " + std::to_string(stopping.warmup_iters) +
                                    ", then until the rel. std. error of the mean <= " +
                                    CLI::detail::to_string(stopping.max_noise * 100) + "% (min " +
                                    std::to_string(stopping.min_iters) + " calls), or " +
                                    CLI::detail::to_string(stopping.max_time_s) + " s, or " +
                                    std::to_string(stopping.max_iters) + " calls";
  std::vector<std::string> header = {
      "dpbench allreduce  backend: " + std::string(backend.name()) + " (" + setup.choice.why + ")",
      "time: median per call, device events on rank 0 from a common start to the last rank's end",
      "host: median host time to enqueue one call (the slowest rank's thread); 'host-bound' where host >= time",
      "launch: " + std::string(launch_name(world ? Launch::process_per_rank : config.launch)) +
          (world ? " (" + std::to_string(world->size()) + " ranks, " + world->library() + ")" : std::string()) +
          "; p2p calls put at most " +
          std::to_string(kMaxOpsPerStream) + " operations on a stream (--dry-run lists them)",
      "algbw = bytes / time, busbw = algbw x 2(n-1)/n (GB = 1e9 bytes); #wrong: elements off the host reference",
      "stopping: " + stop_text + (repeats > 1 ? "; " + std::to_string(repeats) + " interleaved rounds per point" : "")};
  if (results && results->resumed_points() > 0) {
    header.push_back("resumed: " + std::to_string(results->resumed_points()) + " points already in " + f.output.out);
  }
  if (world) header[1] = "time: median per call of the slowest rank (each rank's own events from a common barrier)";
  if (leader) print_allreduce_header(std::cout, header);

  std::vector<int> last_devices;
  SweepOptions so;
  so.results = results ? &*results : nullptr;
  so.progress = leader ? &std::cerr : nullptr;
  so.progress_tty = stderr_is_tty();
  so.repeats = repeats;
  // A timed-out call aborted the communicator (and the cpu backend): nothing more can run.
  so.stop_after = [](const PointRecord& rec) { return rec.status == PointStatus::timeout; };
  if (leader) so.on_record = [&](const PointRecord& rec) {
    const auto devices = rec.axes.value("devices", std::vector<int>{});
    if (devices != last_devices) {
      print_allreduce_group(std::cout, devices);
      last_devices = devices;
    }
    print_allreduce_row(std::cout, rec);
  };
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

  std::cout << "# points: " << outcome.ok << " ok, " << outcome.failed << " failed";
  if (outcome.timeout) std::cout << ", " << outcome.timeout << " timed out (sweep stopped)";
  if (outcome.already_done) std::cout << ", " << outcome.already_done << " already in the results file";
  std::cout << "\n";
  std::cout << results_location_line(f.output, results);
  return outcome.all_ok() ? 0 : 1;
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
      ->capture_default_str();
  app->add_option("--graph-capture", flags->graph_capture,
                  "With --graph: auto (per_stream for nccl-*, as NCCL advises one GPU per capture; fork_join for "
                  "p2p-*), fork_join (one graph over all rank streams) or per_stream (one per stream, as nccl-tests)")
      ->capture_default_str();
  app->add_flag("--no-check", flags->no_check, "Skip the correctness check against the host reference (as -c 0)");
  app->add_option("-c,--check", flags->check,
                  "Check results against the host reference: 1 (default) or 0 (as nccl-tests)")
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
                  "Seconds a point may take; a point past it is recorded as timeout and the run stops (exit 1)");
  add_stopping_flags(*app, flags->stopping, default_stopping());
  add_output_flags(*app, flags->output);
  return {app, [flags](const Invocation& inv) { return run_allreduce(*flags, inv); }};
}

}  // namespace dpb::cli
