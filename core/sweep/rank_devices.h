// Which device each rank runs on.
//
// --gpus N (rank counts, a list) and --devices (an explicit device list, repeats allowed):
// - with --devices D: a point with N ranks uses the first N entries of D; N > |D| is an error
//   naming --gpus;
// - without --devices: ranks use devices 0..N-1; N > device count is an error naming --gpus;
// - --devices alone (no --gpus): one rank count, |D|.
// Every listed device must exist (error naming --devices).
#pragma once
#include <optional>
#include <vector>

namespace dpb {

struct RankPlan {
  std::vector<int> rank_counts;  // from --gpus (or {|devices|})
  std::optional<std::vector<int>> devices;  // from --devices

  // Checks every rank count against the device list / device_count and every device index.
  // Throws std::invalid_argument naming --gpus or --devices.
  void validate(int device_count) const;

  // Devices for a point with `ranks` ranks (validate first).
  std::vector<int> devices_for(int ranks) const;
  // Every device any point uses, each once, in first-use order: what the system block describes.
  std::vector<int> distinct_devices() const;
};

}  // namespace dpb
