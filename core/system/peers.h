// The `peers` part of the system block (schema $defs/system.peers): for each ordered pair of
// distinct devices, whether peer access is supported, CUDA's performance rank and native-atomics
// attributes (cudaDeviceGetP2PAttribute), and the link type from NVML where NVML is present.
// The backend says what it knows of each pair (Backend::peer_link; on the cpu backend the simulated
// devices share host memory, and that is what is reported); NVML names the links it leaves open.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "device/backend.h"

namespace dpb {

class Nvml;

struct PeerInfo {
  int src = 0;
  int dst = 0;
  bool access_supported = false;
  std::optional<int> performance_rank;  // 0 = best link (cuda only)
  std::optional<bool> native_atomics;   // cuda only
  std::optional<std::string> link;      // "NVLink x18", "PCIe PHB (...)", "host memory (cpu-simulated)"
};

// One entry per ordered pair (i != j) of the distinct devices in `devices` (every device when
// empty), in row-major order. `nvml` may be null (no link types). Never throws for an unreadable
// attribute (empty instead); throws std::invalid_argument for a device that does not exist.
std::vector<PeerInfo> read_peers(Backend& backend, const std::vector<int>& devices, const Nvml* nvml);

nlohmann::json peers_to_json(const std::vector<PeerInfo>& peers);

// The hook describe_system (core/system/system_info.cpp) calls: read_peers with NVML loaded for the
// call when the backend leaves some link open and NVML is available, as schema JSON.
nlohmann::json describe_peers(Backend& backend, const std::vector<int>& devices);

}  // namespace dpb
