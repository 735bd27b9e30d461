// The ONE function that builds the `system` block every results file carries
// (schema $defs/system): backend, host, runtime versions, devices and peers.
//
// Every command (allreduce, train, p2p, info) calls describe_system with its backend and the
// devices it runs on, so the block is written by one piece of code.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "device/backend.h"

namespace dpb {

// Versions of what was loaded at run time; empty where absent (no driver, built without CUDA).
struct RuntimeVersions {
  std::optional<std::string> cuda_driver;   // cudaDriverGetVersion, "13.0"
  std::optional<std::string> cuda_runtime;  // cudaRuntimeGetVersion
  std::optional<std::string> nccl;          // ncclGetVersion, "2.28.9"
  std::optional<std::string> nvml;          // filled by describe_system from core/system/nvml.h
};

// Queries the CUDA runtime/driver and NCCL (core/system/cuda_system_info.cpp in CUDA builds; all
// empty otherwise). Never throws: a missing driver is "absent", not an error.
RuntimeVersions read_runtime_versions();

// "12.4" from CUDA's 12040 encoding; "2.28.9" from NCCL's 22809 (>= 2.9) / 2804 (older) encoding.
std::string format_cuda_version(int v);
std::string format_nccl_version(int v);

// The schema's system.devices[] entry for one device (kind "gpu" or "cpu-simulated").
nlohmann::json device_to_json(const DeviceProperties& p);

// The whole system block. Devices: every device of the backend (so the file says what the machine
// has, not only what was used). Peers: from describe_peers (core/system/peers.h) for `devices`
// (every device when empty); left out when that reports nothing.
nlohmann::json describe_system(Backend& backend, const std::vector<int>& devices = {});

}  // namespace dpb
