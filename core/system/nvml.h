// NVML, loaded at RUN TIME with dlopen("libnvidia-ml.so.1"): link types between GPUs (NVLink
// counts, NVSwitch, PCIe topology level) and the NVML version. There is no link-time dependency,
// so the same binary runs where NVML (or the whole driver) is absent; absence is reported as such,
// never as an error. Only the handful of NVML entry points used here are declared (nvml.cpp), with
// their ABI as published in nvml.h.
#pragma once
#include <memory>
#include <optional>
#include <string>

namespace dpb {

// How to find a GPU in NVML: by UUID ("GPU-..." as CUDA and nvidia-smi print it), else by PCI bus id.
struct NvmlGpuId {
  std::optional<std::string> uuid;
  std::optional<std::string> pci_bus_id;
};

class Nvml {
 public:
  // Loads and initializes NVML; nullptr when it cannot (no library, no driver, init failure), with
  // the reason in `why` when given.
  static std::unique_ptr<Nvml> load(std::string* why = nullptr);
  ~Nvml();  // nvmlShutdown, dlclose
  Nvml(const Nvml&) = delete;
  Nvml& operator=(const Nvml&) = delete;

  // nvmlSystemGetNVMLVersion, e.g. "12.580.65".
  std::optional<std::string> version() const;
  // nvmlSystemGetDriverVersion, e.g. "580.65.06".
  std::optional<std::string> driver_version() const;

  // How `a` and `b` are connected, in nvidia-smi topo's terms: "NVLink x18" (direct links),
  // "NVLink x18 via NVSwitch", or the PCIe level ("PCIe PIX (one PCIe switch)", ..., "SYS (across
  // NUMA nodes)"). Empty when NVML cannot tell (a GPU not found, an unsupported query).
  std::optional<std::string> link_between(const NvmlGpuId& a, const NvmlGpuId& b) const;

  struct Api;  // resolved entry points (nvml.cpp)

 private:
  Nvml(void* library, std::unique_ptr<Api> api);
  void* library_;
  std::unique_ptr<Api> api_;
};

// NVML's version when NVML can be loaded, else empty: what the results file's runtime.nvml holds.
std::optional<std::string> nvml_version();

}  // namespace dpb
