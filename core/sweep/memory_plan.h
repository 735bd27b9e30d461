// Memory checks of a sweep plan, made before its first point runs: a sweep whose largest point
// cannot fit is refused up front (one SettingError naming the setting that made it too large)
// instead of running point after point that fail, or that take the host down with them.
//
// Device memory is compared with what each device reports (DeviceProperties::memory_bytes: the
// GPU's memory, or a cpu-simulated device's share of the host's available memory); host-side
// buffers (inputs, references, staging copies) with half of the host memory available now (the
// other half is what the cpu backend's simulated devices may use).
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "device/backend.h"

namespace dpb {

// "1.5 GiB", "512 MiB", "64 KiB", "12 bytes": sizes in error messages.
std::string format_bytes(std::size_t bytes);

// Checks that `bytes_per_rank` for every rank of `rank_devices` (rank r on rank_devices[r]; ranks
// sharing a device add up) fits in each device's memory. `what` says what the bytes are for
// ("send and receive buffers of 8 GiB"). Throws SettingError(setting, ...) naming the device, what
// it needs and what it has. Devices that do not report their memory are not checked.
void check_device_memory(const Backend& backend, const std::vector<int>& rank_devices, std::size_t bytes_per_rank,
                         std::string_view setting, std::string_view what);

// Checks that `bytes` of host-side buffers fit in half of the host memory available now. Throws
// SettingError(setting, ...). Skipped when the OS does not say how much is available.
void check_host_memory(std::size_t bytes, std::string_view setting, std::string_view what);

// a * b, or SIZE_MAX when it overflows (a plan that large is refused by the checks above).
std::size_t saturating_mul(std::size_t a, std::size_t b);
std::size_t saturating_add(std::size_t a, std::size_t b);

}  // namespace dpb
