#include "system/peers.h"

#include <algorithm>

#include "system/nvml.h"

namespace dpb {
namespace {

std::vector<int> distinct_devices(const Backend& backend, const std::vector<int>& devices) {
  std::vector<int> out;
  if (devices.empty()) {
    for (int d = 0; d < backend.device_count(); ++d) out.push_back(d);
    return out;
  }
  for (int d : devices) {
    backend.check_device(d);
    if (std::find(out.begin(), out.end(), d) == out.end()) out.push_back(d);
  }
  return out;
}

template <class T>
nlohmann::json opt(const std::optional<T>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

}  // namespace

std::vector<PeerInfo> read_peers(Backend& backend, const std::vector<int>& devices, const Nvml* nvml) {
  const std::vector<int> devs = distinct_devices(backend, devices);
  std::vector<PeerInfo> peers;
  std::vector<NvmlGpuId> ids;
  if (backend.kind() == BackendKind::cuda && nvml) {
    for (int d : devs) {
      const DeviceProperties p = backend.properties(d);
      ids.push_back({p.uuid, p.pci_bus_id});
    }
  }
  for (std::size_t i = 0; i < devs.size(); ++i) {
    for (std::size_t j = 0; j < devs.size(); ++j) {
      if (i == j) continue;
      PeerInfo info;
      info.src = devs[i];
      info.dst = devs[j];
      if (backend.kind() == BackendKind::cpu) {
        info.access_supported = backend.can_access_peer(info.src, info.dst);
        info.link = "host memory (cpu-simulated)";
      } else {
#if DPBENCH_HAVE_CUDA
        const CudaPeerAttributes a = cuda_peer_attributes(info.src, info.dst);
        info.access_supported = a.access_supported.value_or(false);
        info.performance_rank = a.performance_rank;
        info.native_atomics = a.native_atomics;
#endif
        if (!ids.empty()) info.link = nvml->link_between(ids[i], ids[j]);
      }
      peers.push_back(std::move(info));
    }
  }
  return peers;
}

nlohmann::json peers_to_json(const std::vector<PeerInfo>& peers) {
  nlohmann::json out = nlohmann::json::array();
  for (const PeerInfo& p : peers) {
    out.push_back({{"src", p.src},
                   {"dst", p.dst},
                   {"access_supported", p.access_supported},
                   {"performance_rank", opt(p.performance_rank)},
                   {"native_atomics", opt(p.native_atomics)},
                   {"link", opt(p.link)}});
  }
  return out;
}

nlohmann::json describe_peers(Backend& backend, const std::vector<int>& devices) {
  std::unique_ptr<Nvml> nvml;
  if (backend.kind() == BackendKind::cuda) nvml = Nvml::load();
  return peers_to_json(read_peers(backend, devices, nvml.get()));
}

}  // namespace dpb
