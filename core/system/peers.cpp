#include "system/peers.h"

#include <algorithm>
#include <map>

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

// What the backend knows of each ordered pair of `devs`, row-major.
std::vector<PeerInfo> backend_links(const Backend& backend, const std::vector<int>& devs) {
  std::vector<PeerInfo> peers;
  for (int src : devs) {
    for (int dst : devs) {
      if (src == dst) continue;
      PeerLink a = backend.peer_link(src, dst);
      peers.push_back({src, dst, a.access_supported, a.performance_rank, a.native_atomics, std::move(a.link)});
    }
  }
  return peers;
}

bool links_left_open(const std::vector<PeerInfo>& peers) {
  return std::any_of(peers.begin(), peers.end(), [](const PeerInfo& p) { return !p.link; });
}

// NVML's names for the links the backend left open.
void fill_links(const Backend& backend, const Nvml& nvml, std::vector<PeerInfo>& peers) {
  std::map<int, NvmlGpuId> ids;
  auto id = [&](int d) -> const NvmlGpuId& {
    auto it = ids.find(d);
    if (it == ids.end()) {
      const DeviceProperties p = backend.properties(d);
      it = ids.emplace(d, NvmlGpuId{p.uuid, p.pci_bus_id}).first;
    }
    return it->second;
  };
  for (PeerInfo& p : peers) {
    if (!p.link) p.link = nvml.link_between(id(p.src), id(p.dst));
  }
}

template <class T>
nlohmann::json opt(const std::optional<T>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

}  // namespace

std::vector<PeerInfo> read_peers(Backend& backend, const std::vector<int>& devices, const Nvml* nvml) {
  std::vector<PeerInfo> peers = backend_links(backend, distinct_devices(backend, devices));
  if (nvml) fill_links(backend, *nvml, peers);
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
  std::vector<PeerInfo> peers = backend_links(backend, distinct_devices(backend, devices));
  if (links_left_open(peers)) {
    if (std::unique_ptr<Nvml> nvml = Nvml::load()) fill_links(backend, *nvml, peers);
  }
  return peers_to_json(peers);
}

}  // namespace dpb
