#include "system/system_info.h"

#include "system/host_info.h"
#include "system/nvml.h"
#include "system/peers.h"

namespace dpb {

namespace {

template <class T>
nlohmann::json opt(const std::optional<T>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

}  // namespace

std::string format_cuda_version(int v) {
  return std::to_string(v / 1000) + "." + std::to_string((v % 1000) / 10);
}

std::string format_nccl_version(int v) {
  // NCCL_VERSION(X,Y,Z): X*10000 + Y*100 + Z from 2.9 on, X*1000 + Y*100 + Z before.
  if (v >= 20900) return std::to_string(v / 10000) + "." + std::to_string((v % 10000) / 100) + "." + std::to_string(v % 100);
  return std::to_string(v / 1000) + "." + std::to_string((v % 1000) / 100) + "." + std::to_string(v % 100);
}

nlohmann::json device_to_json(const DeviceProperties& p) {
  return {{"index", p.index},
          {"name", p.name},
          {"kind", p.simulated ? "cpu-simulated" : "gpu"},
          {"memory_bytes", p.memory_bytes},
          {"uuid", opt(p.uuid)},
          {"pci_bus_id", opt(p.pci_bus_id)},
          {"sm_count", opt(p.sm_count)},
          {"compute_capability", opt(p.compute_capability)},
          {"clock_mhz", opt(p.clock_mhz)},
          {"memory_clock_mhz", opt(p.memory_clock_mhz)},
          {"ecc_enabled", opt(p.ecc_enabled)}};
}

nlohmann::json describe_system(Backend& backend, const std::vector<int>& devices) {
  nlohmann::json sys;
  sys["backend"] = std::string(backend.name());
  sys["host"] = to_json(read_host_info());
  const RuntimeVersions rt = read_runtime_versions();
  sys["runtime"] = {{"cuda_driver_version", opt(rt.cuda_driver)},
                    {"cuda_runtime_version", opt(rt.cuda_runtime)},
                    {"nccl_version", opt(rt.nccl)},
                    {"nvml", opt(rt.nvml ? rt.nvml : nvml_version())}};
  nlohmann::json devs = nlohmann::json::array();
  for (int d = 0; d < backend.device_count(); ++d) devs.push_back(device_to_json(backend.properties(d)));
  sys["devices"] = std::move(devs);
  nlohmann::json peers = describe_peers(backend, devices);
  if (peers.is_array() && !peers.empty()) sys["peers"] = std::move(peers);
  return sys;
}

}  // namespace dpb
