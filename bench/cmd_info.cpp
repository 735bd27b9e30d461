// `dpbench info`: what this machine is, as every results file's system block records it (host,
// devices, runtime versions, peer matrix and NVML link types), printed for people and optionally
// stored as a results file of command "info". The text is rendered from the same JSON block the
// file stores, so the two cannot disagree.
#include <cstdio>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <utility>

#include "cli_backend.h"
#include "cli_sweep_flags.h"
#include "commands.h"
#include "device/backend.h"
#include "results/invocation.h"
#include "results/results_file.h"
#include "system/nvml.h"
#include "system/system_info.h"

namespace dpb::cli {
namespace {

struct InfoFlags {
  BackendFlags backend;
  std::string out;
  CLI::Option* out_option = nullptr;
};

std::string text(const nlohmann::json& v, const std::string& absent = "n/a") {
  if (v.is_null()) return absent;
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "yes" : "no";
  return v.dump();
}

std::string gib(const nlohmann::json& bytes) {
  if (!bytes.is_number()) return "n/a";
  char s[32];
  std::snprintf(s, sizeof s, "%.1f GiB", bytes.get<double>() / double(1 << 30));
  return s;
}

std::string mhz(const nlohmann::json& v) {
  if (!v.is_number()) return "n/a";
  char s[32];
  std::snprintf(s, sizeof s, "%.0f MHz", v.get<double>());
  return s;
}

void print_host(std::ostream& out, const nlohmann::json& sys) {
  const auto& h = sys.at("host");
  out << "Host\n"
      << "  hostname       " << text(h.value("hostname", nlohmann::json())) << "\n"
      << "  os             " << text(h.value("os", nlohmann::json())) << "\n"
      << "  kernel         " << text(h.value("kernel", nlohmann::json())) << "\n"
      << "  cpu            " << text(h.value("cpu_model", nlohmann::json())) << " ("
      << text(h.value("cpu_logical_cores", nlohmann::json())) << " logical cores)\n"
      << "  memory         " << gib(h.value("memory_bytes", nlohmann::json())) << "\n\n";
}

void print_runtime(std::ostream& out, const nlohmann::json& sys, const nlohmann::json& build,
                   const std::optional<std::string>& nvml_text) {
  const auto rt = sys.value("runtime", nlohmann::json::object());
  out << "Software\n"
      << "  dpbench        " << text(build.value("version", nlohmann::json())) << " ("
      << text(build.value("git_revision", nlohmann::json())) << "), backends compiled:";
  for (const auto& b : build.value("backends_compiled", nlohmann::json::array())) out << " " << text(b);
  out << "\n"
      << "  CUDA driver    " << text(rt.value("cuda_driver_version", nlohmann::json()), "absent") << "\n"
      << "  CUDA runtime   " << text(rt.value("cuda_runtime_version", nlohmann::json()), "absent") << " (built with "
      << text(build.value("cuda_build_version", nlohmann::json()), "no CUDA") << ")\n"
      << "  NCCL           " << text(rt.value("nccl_version", nlohmann::json()), "absent") << " (built with "
      << text(build.value("nccl_build_version", nlohmann::json()), "no NCCL") << ")\n"
      << "  NVML           " << nvml_text.value_or("absent") << "\n\n";
}

void print_devices(std::ostream& out, const nlohmann::json& sys) {
  const auto& devs = sys.at("devices");
  const bool simulated = !devs.empty() && devs.front().value("kind", "") == "cpu-simulated";
  out << "Devices (" << text(sys.value("backend", nlohmann::json())) << " backend, " << devs.size()
      << (simulated ? " simulated devices in host memory: not GPUs" : " GPUs") << ")\n";
  for (const auto& d : devs) {
    out << "  [" << text(d.value("index", nlohmann::json())) << "] " << text(d.value("name", nlohmann::json())) << "\n"
        << "      memory " << gib(d.value("memory_bytes", nlohmann::json()));
    if (!simulated) {
      out << ", " << text(d.value("sm_count", nlohmann::json())) << " SMs, compute capability "
          << text(d.value("compute_capability", nlohmann::json())) << ", clock "
          << mhz(d.value("clock_mhz", nlohmann::json())) << ", memory clock "
          << mhz(d.value("memory_clock_mhz", nlohmann::json())) << ", ECC "
          << text(d.value("ecc_enabled", nlohmann::json())) << "\n"
          << "      uuid " << text(d.value("uuid", nlohmann::json())) << ", PCI bus id "
          << text(d.value("pci_bus_id", nlohmann::json()));
    }
    out << "\n";
  }
  out << "\n";
}

void print_peers(std::ostream& out, const nlohmann::json& sys) {
  if (!sys.contains("peers") || sys.at("peers").empty()) {
    out << "Peers: fewer than two devices, no peer matrix\n";
    return;
  }
  const auto& peers = sys.at("peers");
  std::map<std::pair<int, int>, const nlohmann::json*> by_pair;
  std::map<int, bool> seen;
  for (const auto& p : peers) {
    const int s = p.at("src").get<int>(), d = p.at("dst").get<int>();
    by_pair[{s, d}] = &p;
    seen[s] = seen[d] = true;
  }
  auto matrix = [&](const char* title, auto&& cell) {
    out << title << "\n   src\\dst";
    char c[32];
    for (const auto& [d, unused] : seen) {
      std::snprintf(c, sizeof c, "%6d", d);
      out << c;
    }
    out << "\n";
    for (const auto& [s, unused_s] : seen) {
      std::snprintf(c, sizeof c, "%10d", s);
      out << c;
      for (const auto& [d, unused_d] : seen) {
        const auto it = by_pair.find({s, d});
        std::snprintf(c, sizeof c, "%6s", it == by_pair.end() ? "-" : cell(*it->second).c_str());
        out << c;
      }
      out << "\n";
    }
    out << "\n";
  };
  if (sys.value("backend", "") == "cpu") {
    matrix("Peer access (simulated devices share host memory: every pair can access each other)",
           [](const nlohmann::json& p) { return text(p.at("access_supported")); });
  } else {
    matrix("Peer access (cudaDeviceCanAccessPeer: row can access column's memory)",
           [](const nlohmann::json& p) { return text(p.at("access_supported")); });
    matrix("P2P performance rank (cudaDeviceGetP2PAttribute; 0 = best link)",
           [](const nlohmann::json& p) { return text(p.value("performance_rank", nlohmann::json())); });
    matrix("Native atomics over the link (cudaDeviceGetP2PAttribute)",
           [](const nlohmann::json& p) { return text(p.value("native_atomics", nlohmann::json())); });
  }
  out << "Links (NVML where present)\n";
  for (const auto& p : peers) {
    const int s = p.at("src").get<int>(), d = p.at("dst").get<int>();
    if (s < d) out << "  " << s << " <-> " << d << ": " << text(p.value("link", nlohmann::json()), "unknown (NVML absent)") << "\n";
  }
}

int run_info_command(const InfoFlags& flags, const Invocation& inv) {
  OutputFlags output;
  output.out = flags.out;
  output.out_option = flags.out_option;
  validate_output_flags(output);  // `--out ''` and unwritable paths fail here
  const std::optional<ResultsLock> lock = lock_output(output);  // one writer per results file
  BackendSetup setup = open_backend(flags.backend, std::cerr);
  Backend& backend = *setup.backend;

  const nlohmann::json system = describe_system(backend);
  const nlohmann::json build = dpbench_build_json();
  std::string nvml_why;
  std::optional<std::string> nvml_text;
  if (auto nvml = Nvml::load(&nvml_why)) {
    nvml_text = "version " + nvml->version().value_or("unknown") + ", driver " + nvml->driver_version().value_or("unknown");
  } else {
    nvml_text = "absent: " + nvml_why;
  }

  std::ostringstream out;
  out << "dpbench info (" << setup.choice.why << ")\n\n";
  print_host(out, system);
  print_runtime(out, system, build, nvml_text);
  print_devices(out, system);
  if (cuda_compiled_in() && backend.kind() == BackendKind::cpu) {
    out << "CUDA devices visible: " << visible_cuda_devices() << "\n\n";
  }
  print_peers(out, system);
  std::cout << out.str();

  if (!flags.out.empty()) {
    ResultsHeader header{"info", inv.argv, backend_options_json(flags.backend), system};
    // A description has no points to wait for: it replaces an existing file at once.
    ResultsFile file = ResultsFile::create(flags.out, header, ResultsFile::Replace::at_once);
    file.finish();
    std::cout << "\nresults: " << flags.out << "\n";
  }
  return 0;
}

}  // namespace

Command add_info_command(CLI::App& root) {
  auto flags = std::make_shared<InfoFlags>();
  auto* app = root.add_subcommand("info", "Describe this machine: host, GPUs, driver/CUDA/NCCL/NVML versions, peer "
                                          "access matrix and link types");
  add_backend_flags(*app, flags->backend);
  flags->out_option =
      app->add_option("-o,--out", flags->out, "Write the description as a results file (JSON, command \"info\") here");
  return {app, [flags](const Invocation& inv) { return run_info_command(*flags, inv); }};
}

}  // namespace dpb::cli
