// `dpbench p2p`: device-by-device copy bandwidth and latency matrices (core/p2p/p2p_bench.h), printed
// nvbandwidth-style and optionally stored as one "p2p" point of a results file.
#include <chrono>
#include <iostream>
#include <optional>
#include <string>

#include "cli_backend.h"
#include "cli_lists.h"
#include "cli_sweep_flags.h"
#include "commands.h"
#include "p2p/p2p_bench.h"
#include "p2p/p2p_record.h"
#include "results/invocation.h"
#include "results/results_file.h"
#include "sweep/sizes.h"
#include "system/system_info.h"

namespace dpb::cli {
namespace {

struct P2PFlags {
  BackendFlags backend;
  std::string size = "64M";
  int repeats = 5;
  std::string devices;  // empty: every device
  std::string out;
  std::optional<double> timeout;  // seconds; unset: no limit
  CLI::Option* out_option = nullptr;
};

int run_p2p_command(const P2PFlags& flags, const Invocation& inv) {
  // Parse everything before touching a device so bad values fail fast with one line.
  P2POptions options;
  options.bytes = parse_size(flags.size, "--size");
  options.repeats = flags.repeats;
  if (!flags.devices.empty()) options.devices = parse_index_list(flags.devices, "--devices");
  options.timeout_s = flags.timeout;
  OutputFlags output;
  output.out = flags.out;
  output.out_option = flags.out_option;
  validate_output_flags(output);  // `--out ''` and unwritable paths fail here
  const std::optional<ResultsLock> lock = lock_output(output);  // one writer per results file

  BackendSetup setup = open_backend(flags.backend, std::cerr);
  Backend& backend = *setup.backend;
  if (options.devices.empty()) {
    for (int d = 0; d < backend.device_count(); ++d) options.devices.push_back(d);
    if (options.devices.size() == 1) {
      // One device: measure copies within it rather than refuse (as --devices 0,0 would).
      options.devices.push_back(0);
      std::cerr << "p2p: one device: measuring copies within device 0 (--devices 0,0)\n";
    }
  }
  validate(options, backend);

  const std::string started_at = iso8601_utc_now();
  const auto t0 = std::chrono::steady_clock::now();
  std::cout << "dpbench p2p: backend " << backend.name() << ", " << options.devices.size() << " positions, "
            << format_size(options.bytes) << " x " << options.repeats << " copies per bandwidth entry, "
            << options.latency_repeats << " x " << options.latency_bytes << "-byte copies per latency entry\n\n";
  const P2PResult result = run_p2p(backend, options, &std::cerr);
  const double duration = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  for (const DeviceMatrix& m : result.matrices) std::cout << format_matrix(m) << "\n";
  for (const auto& p : result.problems) std::cerr << "dpbench p2p: problem: " << p << "\n";

  if (!flags.out.empty()) {
    nlohmann::json opts = backend_options_json(flags.backend);
    opts["size"] = options.bytes;
    opts["repeats"] = options.repeats;
    opts["devices"] = options.devices;
    ResultsHeader header{"p2p", inv.argv, opts, describe_system(backend, options.devices), p2p_point_axes().order()};
    ResultsFile file = ResultsFile::create(flags.out, header);
    file.append(p2p_point_record(options, result, started_at, duration));
    file.finish();
    std::cout << results_location_line(file).substr(2);
  }
  return result.problems.empty() ? 0 : 1;
}

}  // namespace

Command add_p2p_command(CLI::App& root) {
  auto flags = std::make_shared<P2PFlags>();
  auto* app = root.add_subcommand(
      "p2p", "Device-to-device copy bandwidth (unidirectional, bidirectional) and latency matrices, with peer "
             "access disabled and enabled (as p2pBandwidthLatencyTest / nvbandwidth)");
  add_backend_flags(*app, flags->backend);
  app->add_option("--size", flags->size, "Bytes per bandwidth copy (K/M/G suffixes: 2^10, 2^20, 2^30)")
      ->capture_default_str();
  app->add_option("--repeats", flags->repeats, "Copies per bandwidth entry (1..1000)")
      ->check(int_in(1, P2POptions::kMaxRepeats))
      ->capture_default_str();
  app->add_option("--devices", flags->devices,
                  "Matrix positions as device indices, repeats allowed ('0,0' measures copies within device 0); "
                  "default: every device (0,0 where there is only one)");
  app->add_option("--timeout", flags->timeout,
                  "Seconds the run may take; matrix entries not started by then stay empty and the point is "
                  "recorded as timeout (exit 1)")
      ->check(number_in(0, 1e6, /*above_lo=*/true));
  flags->out_option = app->add_option("-o,--out", flags->out,
                  "Write the results file (JSON) here (an existing file is replaced only when the point is ok, "
                  "else this run's record goes to NAME.failed.json)");
  return {app, [flags](const Invocation& inv) { return run_p2p_command(*flags, inv); }};
}

}  // namespace dpb::cli
