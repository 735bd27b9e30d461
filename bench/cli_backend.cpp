#include "cli_backend.h"

#include <limits>

#include "cli_lists.h"
#include "collectives/algorithm_rules.h"
#include "sweep/memory_plan.h"
#include "sweep/sizes.h"
#include "system/host_memory.h"

namespace dpb::cli {

void add_backend_flags(CLI::App& app, BackendFlags& flags) {
  app.add_option("--backend", flags.backend, "Device backend: auto (cuda when a GPU is visible), cpu or cuda")
      ->capture_default_str();
  app.add_option("--cpu-devices", flags.cpu_devices, "Number of simulated devices of the cpu backend")
      ->check(int_in(1, 1024))
      ->capture_default_str();
  app.add_option("--cpu-queue-depth", flags.cpu_queue_depth,
                 "cpu backend: operations a stream may hold pending before an enqueue blocks the host (CUDA "
                 "blocks at about 1000)")
      ->check(int_in(2, 1 << 24))
      ->capture_default_str();
  app.add_option("--cpu-device-memory", flags.cpu_device_memory,
                 "Memory of each simulated cpu device (e.g. 512M; default: half of the host memory available now, "
                 "split over --cpu-devices); allocations beyond it fail as out of memory");
}

namespace {

std::optional<std::size_t> parse_cpu_device_memory(const BackendFlags& flags) {
  if (flags.cpu_device_memory.empty()) return std::nullopt;
  return parse_size(flags.cpu_device_memory, "--cpu-device-memory");
}

}  // namespace

BackendSetup open_backend(const BackendFlags& flags, std::ostream& log) {
  const int cpu_devices = flags.cpu_devices;
  BackendSetup setup{choose_backend(flags.backend), nullptr};
  if (flags.backend == "auto") log << "backend: " << setup.choice.why << "\n";
  CpuBackendOptions cpu;
  cpu.devices = cpu_devices;
  cpu.queue_depth = static_cast<std::size_t>(flags.cpu_queue_depth);
  if (const auto memory = parse_cpu_device_memory(flags)) {
    const auto avail = host_available_memory();
    if (setup.choice.kind == BackendKind::cpu && avail && saturating_mul(*memory, cpu_devices) > *avail) {
      throw std::invalid_argument("--cpu-device-memory: " + flags.cpu_device_memory + " x " +
                                  std::to_string(cpu_devices) + " devices is more than the " + format_bytes(*avail) +
                                  " of host memory available (use less, or fewer --cpu-devices)");
    }
    cpu.memory_per_device = *memory;
  }
  setup.backend = make_backend(setup.choice.kind, cpu);
  return setup;
}

nlohmann::json backend_options_json(const BackendFlags& flags) {
  const auto memory = parse_cpu_device_memory(flags);
  return {{"backend", flags.backend},
          {"cpu_devices", flags.cpu_devices},
          {"cpu_queue_depth", flags.cpu_queue_depth},
          {"cpu_device_memory", memory ? nlohmann::json(*memory) : nlohmann::json(nullptr)}};
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
