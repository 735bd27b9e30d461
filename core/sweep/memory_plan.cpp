#include "sweep/memory_plan.h"

#include <cstdio>
#include <limits>
#include <map>

#include "device/error.h"
#include "system/host_memory.h"

namespace dpb {

std::size_t saturating_mul(std::size_t a, std::size_t b) {
  if (a != 0 && b > std::numeric_limits<std::size_t>::max() / a) return std::numeric_limits<std::size_t>::max();
  return a * b;
}

std::size_t saturating_add(std::size_t a, std::size_t b) {
  return b > std::numeric_limits<std::size_t>::max() - a ? std::numeric_limits<std::size_t>::max() : a + b;
}

std::string format_bytes(std::size_t bytes) {
  static constexpr const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  if (bytes < 1024) return std::to_string(bytes) + " bytes";
  double v = static_cast<double>(bytes);
  int unit = -1;
  while (v >= 1024 && unit + 1 < static_cast<int>(std::size(kUnits))) {
    v /= 1024;
    ++unit;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, v < 10 ? "%.1f %s" : "%.0f %s", v, kUnits[unit]);
  return buf;
}

void check_device_memory(const Backend& backend, const std::vector<int>& rank_devices, std::size_t bytes_per_rank,
                         std::string_view setting, std::string_view what) {
  std::map<int, std::size_t> ranks_on;
  for (int d : rank_devices) ++ranks_on[d];
  for (const auto& [device, ranks] : ranks_on) {
    const DeviceProperties p = backend.properties(device);
    if (p.memory_bytes == 0) continue;
    const std::size_t need = saturating_mul(ranks, bytes_per_rank);
    if (need <= p.memory_bytes) continue;
    std::string msg = "needs " + format_bytes(need) + " on " + std::string(backend.name()) + " device " +
                      std::to_string(device) + " (" + (ranks > 1 ? std::to_string(ranks) + " ranks x " : "") +
                      std::string(what) + ") but the device has " + format_bytes(p.memory_bytes);
    if (p.simulated) msg += " (its share of the host memory available now)";
    throw SettingError(std::string(setting), msg);
  }
}

void check_host_memory(std::size_t bytes, std::string_view setting, std::string_view what) {
  const auto avail = host_available_memory();
  if (!avail || bytes <= *avail / 2) return;
  throw SettingError(std::string(setting), "needs " + format_bytes(bytes) + " of host memory (" + std::string(what) +
                                               ") but only " + format_bytes(*avail) +
                                               " is available (at most half of it is used)");
}

}  // namespace dpb
