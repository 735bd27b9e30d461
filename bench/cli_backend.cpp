#include "cli_backend.h"

#include <limits>

#include "collectives/algorithm_rules.h"
#include "sweep/lists.h"

namespace dpb::cli {

void add_backend_flags(CLI::App& app, BackendFlags& flags) {
  app.add_option("--backend", flags.backend, "Device backend: auto (cuda when a GPU is visible), cpu or cuda")
      ->capture_default_str();
  app.add_option("--cpu-devices", flags.cpu_devices, "Number of simulated devices of the cpu backend")
      ->capture_default_str();
  app.add_option("--cpu-queue-depth", flags.cpu_queue_depth,
                 "cpu backend: operations a stream may hold pending before an enqueue blocks the host (CUDA "
                 "blocks at about 1000)")
      ->capture_default_str();
}

BackendSetup open_backend(const BackendFlags& flags, std::ostream& log) {
  const int cpu_devices = static_cast<int>(parse_int(flags.cpu_devices, "--cpu-devices", 1, 1024));
  BackendSetup setup{choose_backend(flags.backend), nullptr};
  if (flags.backend == "auto") log << "backend: " << setup.choice.why << "\n";
  CpuBackendOptions cpu;
  cpu.devices = cpu_devices;
  cpu.queue_depth = static_cast<std::size_t>(parse_int(flags.cpu_queue_depth, "--cpu-queue-depth", 2, 1 << 24));
  setup.backend = make_backend(setup.choice.kind, cpu);
  return setup;
}

nlohmann::json backend_options_json(const BackendFlags& flags) {
  return {{"backend", flags.backend},
          {"cpu_devices", parse_int(flags.cpu_devices, "--cpu-devices", 1, 1024)},
          {"cpu_queue_depth", parse_int(flags.cpu_queue_depth, "--cpu-queue-depth", 2, 1 << 24)}};
}

std::vector<AlgorithmName> parse_algo_flag(const std::string& text, const Backend& backend) {
  const std::string algo_text =
      text.empty() ? (backend.kind() == BackendKind::cuda ? "nccl-auto" : "p2p-ring") : text;
  const std::vector<std::string> names =
      parse_list<std::string>(algo_text, "--algo", [](const std::string& s) { return parse_algorithm(s).text(); });
  std::vector<AlgorithmName> algos;
  for (const auto& name : names) {
    algos.push_back(parse_algorithm(name));
    try {
      check_backend_supports(backend.kind(), algos.back());
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument(with_flag("--algo", e.what()));
    }
  }
  return algos;
}

std::vector<std::string> algo_texts(const std::vector<AlgorithmName>& algos) {
  std::vector<std::string> out;
  for (const auto& a : algos) out.push_back(a.text());
  return out;
}

}  // namespace dpb::cli
