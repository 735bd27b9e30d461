#include "system/nvml.h"

#include <dlfcn.h>

#include <algorithm>
#include <cstring>
#include <vector>

namespace dpb {
namespace {

// The subset of nvml.h used here (ABI-stable since NVML 2.285 / CUDA 10).
using nvmlReturn_t = int;
using nvmlDevice_t = struct nvmlDevice_st*;
constexpr nvmlReturn_t kNvmlSuccess = 0;
constexpr unsigned kNvmlEnabled = 1;        // NVML_FEATURE_ENABLED
constexpr unsigned kRemoteGpu = 0;          // NVML_NVLINK_DEVICE_TYPE_GPU
constexpr unsigned kRemoteSwitch = 2;       // NVML_NVLINK_DEVICE_TYPE_SWITCH
constexpr unsigned kMaxLinksToProbe = 32;   // NVML_NVLINK_MAX_LINKS is 18 today; probing stops on error

struct NvmlPciInfo {  // nvmlPciInfo_t (v3 layout)
  char busIdLegacy[16];
  unsigned domain;
  unsigned bus;
  unsigned device;
  unsigned pciDeviceId;
  unsigned pciSubSystemId;
  char busId[32];
};

bool same_pci_function(const NvmlPciInfo& a, const NvmlPciInfo& b) {
  return a.domain == b.domain && a.bus == b.bus && a.device == b.device;
}

// nvmlGpuTopologyLevel_t, named as `nvidia-smi topo -m` names them.
std::string topology_name(unsigned level) {
  switch (level) {
    case 0: return "same board (multi-GPU board)";
    case 10: return "PCIe PIX (one PCIe switch)";
    case 20: return "PCIe PXB (several PCIe switches)";
    case 30: return "PCIe PHB (PCIe host bridge)";
    case 40: return "PCIe NODE (host bridges within a NUMA node)";
    case 50: return "SYS (across NUMA nodes)";
    default: return "PCIe (topology level " + std::to_string(level) + ")";
  }
}

}  // namespace

struct Nvml::Api {
  nvmlReturn_t (*init)() = nullptr;
  nvmlReturn_t (*shutdown)() = nullptr;
  nvmlReturn_t (*system_nvml_version)(char*, unsigned) = nullptr;
  nvmlReturn_t (*system_driver_version)(char*, unsigned) = nullptr;
  nvmlReturn_t (*handle_by_uuid)(const char*, nvmlDevice_t*) = nullptr;
  nvmlReturn_t (*handle_by_pci_bus_id)(const char*, nvmlDevice_t*) = nullptr;
  nvmlReturn_t (*pci_info)(nvmlDevice_t, NvmlPciInfo*) = nullptr;
  nvmlReturn_t (*nvlink_state)(nvmlDevice_t, unsigned, unsigned*) = nullptr;
  nvmlReturn_t (*nvlink_remote_pci)(nvmlDevice_t, unsigned, NvmlPciInfo*) = nullptr;
  nvmlReturn_t (*nvlink_remote_type)(nvmlDevice_t, unsigned, unsigned*) = nullptr;
  nvmlReturn_t (*common_ancestor)(nvmlDevice_t, nvmlDevice_t, unsigned*) = nullptr;
};

namespace {

template <class F>
void resolve(void* library, const char* name, F& fn) {
  fn = reinterpret_cast<F>(dlsym(library, name));
}

std::optional<nvmlDevice_t> find_device(const Nvml::Api& api, const NvmlGpuId& id) {
  nvmlDevice_t device = nullptr;
  if (id.uuid && api.handle_by_uuid && api.handle_by_uuid(id.uuid->c_str(), &device) == kNvmlSuccess) return device;
  if (id.pci_bus_id && api.handle_by_pci_bus_id &&
      api.handle_by_pci_bus_id(id.pci_bus_id->c_str(), &device) == kNvmlSuccess) {
    return device;
  }
  return std::nullopt;
}

struct LinkCounts {
  std::vector<NvmlPciInfo> gpu_peers;  // one entry per active link to a GPU
  unsigned to_switch = 0;
};

LinkCounts active_links(const Nvml::Api& api, nvmlDevice_t device) {
  LinkCounts counts;
  if (!api.nvlink_state) return counts;
  for (unsigned link = 0; link < kMaxLinksToProbe; ++link) {
    unsigned state = 0;
    if (api.nvlink_state(device, link, &state) != kNvmlSuccess) {
      // NOT_SUPPORTED (no NVLink) or INVALID_ARGUMENT (past the last link): stop at the first gap
      // only once past NVML's documented maximum; below it a link may just be absent.
      if (link >= 18) break;
      continue;
    }
    if (state != kNvmlEnabled) continue;
    unsigned type = 0xff;
    if (api.nvlink_remote_type && api.nvlink_remote_type(device, link, &type) != kNvmlSuccess) type = 0xff;
    if (type == kRemoteSwitch) {
      ++counts.to_switch;
    } else if (api.nvlink_remote_pci) {
      NvmlPciInfo remote{};
      // Older NVML without the remote-type query: a link whose remote end is a GPU we know counts.
      if ((type == kRemoteGpu || type == 0xff) && api.nvlink_remote_pci(device, link, &remote) == kNvmlSuccess) {
        counts.gpu_peers.push_back(remote);
      }
    }
  }
  return counts;
}

}  // namespace

Nvml::Nvml(void* library, std::unique_ptr<Api> api) : library_(library), api_(std::move(api)) {}

Nvml::~Nvml() {
  if (api_ && api_->shutdown) api_->shutdown();
  if (library_) dlclose(library_);
}

std::unique_ptr<Nvml> Nvml::load(std::string* why) {
  void* library = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!library) {
    if (why) {
      const char* error = dlerror();
      *why = std::string("libnvidia-ml.so.1 could not be loaded (") + (error ? error : "no NVIDIA driver") + ")";
    }
    return nullptr;
  }
  auto api = std::make_unique<Api>();
  resolve(library, "nvmlInit_v2", api->init);
  resolve(library, "nvmlShutdown", api->shutdown);
  resolve(library, "nvmlSystemGetNVMLVersion", api->system_nvml_version);
  resolve(library, "nvmlSystemGetDriverVersion", api->system_driver_version);
  resolve(library, "nvmlDeviceGetHandleByUUID", api->handle_by_uuid);
  resolve(library, "nvmlDeviceGetHandleByPciBusId_v2", api->handle_by_pci_bus_id);
  resolve(library, "nvmlDeviceGetPciInfo_v3", api->pci_info);
  resolve(library, "nvmlDeviceGetNvLinkState", api->nvlink_state);
  resolve(library, "nvmlDeviceGetNvLinkRemotePciInfo_v2", api->nvlink_remote_pci);
  resolve(library, "nvmlDeviceGetNvLinkRemoteDeviceType", api->nvlink_remote_type);
  resolve(library, "nvmlDeviceGetTopologyCommonAncestor", api->common_ancestor);
  if (!api->init || !api->shutdown) {
    dlclose(library);
    if (why) *why = "libnvidia-ml.so.1 lacks nvmlInit_v2";
    return nullptr;
  }
  if (const nvmlReturn_t rc = api->init(); rc != kNvmlSuccess) {
    dlclose(library);
    if (why) *why = "nvmlInit_v2 failed (NVML error " + std::to_string(rc) + ")";
    return nullptr;
  }
  return std::unique_ptr<Nvml>(new Nvml(library, std::move(api)));
}

std::optional<std::string> Nvml::version() const {
  char text[96] = {};
  if (!api_->system_nvml_version || api_->system_nvml_version(text, sizeof text) != kNvmlSuccess) return std::nullopt;
  return std::string(text);
}

std::optional<std::string> Nvml::driver_version() const {
  char text[96] = {};
  if (!api_->system_driver_version || api_->system_driver_version(text, sizeof text) != kNvmlSuccess) {
    return std::nullopt;
  }
  return std::string(text);
}

std::optional<std::string> Nvml::link_between(const NvmlGpuId& a, const NvmlGpuId& b) const {
  const auto da = find_device(*api_, a);
  const auto db = find_device(*api_, b);
  if (!da || !db) return std::nullopt;
  if (*da == *db) return "same GPU";
  NvmlPciInfo pci_b{};
  const bool have_pci_b = api_->pci_info && api_->pci_info(*db, &pci_b) == kNvmlSuccess;
  const LinkCounts la = active_links(*api_, *da);
  if (have_pci_b) {
    const auto direct = std::count_if(la.gpu_peers.begin(), la.gpu_peers.end(),
                                      [&](const NvmlPciInfo& p) { return same_pci_function(p, pci_b); });
    if (direct > 0) return "NVLink x" + std::to_string(direct);
  }
  if (la.to_switch > 0) {
    const LinkCounts lb = active_links(*api_, *db);
    // Every GPU of an NVSwitch system reaches every other through the switch fabric; the links a
    // transfer can use are bounded by the smaller side.
    if (lb.to_switch > 0) return "NVLink x" + std::to_string(std::min(la.to_switch, lb.to_switch)) + " via NVSwitch";
  }
  unsigned level = 0;
  if (api_->common_ancestor && api_->common_ancestor(*da, *db, &level) == kNvmlSuccess) return topology_name(level);
  return std::nullopt;
}

std::optional<std::string> nvml_version() {
  auto nvml = Nvml::load();
  return nvml ? nvml->version() : std::nullopt;
}

}  // namespace dpb
