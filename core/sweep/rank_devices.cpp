#include "sweep/rank_devices.h"

#include <algorithm>
#include <numeric>
#include <stdexcept>
#include <string>

#include "device/error.h"

namespace dpb {

void RankPlan::validate(int device_count) const {
  if (rank_counts.empty()) throw SettingError("gpus", "no rank counts given");
  if (devices) {
    if (devices->empty()) throw SettingError("devices", "no devices given");
    for (int d : *devices) {
      if (d < 0 || d >= device_count) {
        throw SettingError("devices", "device " + std::to_string(d) + " does not exist (" +
                                    std::to_string(device_count) + " device" + (device_count == 1 ? "" : "s") +
                                    " visible)");
      }
    }
  }
  for (int n : rank_counts) {
    if (n < 1) throw SettingError("gpus", "rank counts must be >= 1, got " + std::to_string(n));
    if (devices && static_cast<std::size_t>(n) > devices->size()) {
      throw SettingError("gpus", std::to_string(n) + " ranks need " + std::to_string(n) +
                                  " entries in {devices}, which lists " + std::to_string(devices->size()));
    }
    if (!devices && n > device_count) {
      throw SettingError("gpus", std::to_string(n) + " ranks need " + std::to_string(n) +
                                  " devices; " + std::to_string(device_count) +
                                  " visible (repeat devices in {devices} to put several ranks on one)");
    }
  }
}

std::vector<int> RankPlan::devices_for(int ranks) const {
  if (ranks < 1 || (devices && static_cast<std::size_t>(ranks) > devices->size())) {
    throw SettingError("gpus", "no devices for " + std::to_string(ranks) + " ranks");
  }
  if (devices) {
    return std::vector<int>(devices->begin(), devices->begin() + ranks);
  }
  std::vector<int> out(static_cast<std::size_t>(ranks));
  std::iota(out.begin(), out.end(), 0);
  return out;
}

std::vector<int> RankPlan::distinct_devices() const {
  std::vector<int> all;
  for (int n : rank_counts) {
    for (int d : devices_for(n)) {
      if (std::find(all.begin(), all.end(), d) == all.end()) all.push_back(d);
    }
  }
  return all;
}

}  // namespace dpb
