#include "sweep/allreduce_plan_check.h"

#include <algorithm>
#include <thread>

#include "sweep/memory_plan.h"
#include "device/error.h"

namespace dpb {

void check_allreduce_plan(const Backend& backend, const AllreducePlanShape& plan) {
  std::size_t smallest_elem = 8;
  for (DType d : plan.dtypes) {
    smallest_elem = std::min(smallest_elem, dtype_size(d));
    if (plan.min_bytes < dtype_size(d)) {
      throw SettingError("min_bytes", std::to_string(plan.min_bytes) + " bytes is less than one " +
                                          std::string(dtype_name(d)) + " element (" +
                                          std::to_string(dtype_size(d)) + " bytes): such a point moves no data");
    }
  }
  // Each rank holds a send and a receive buffer of the largest size (allreduce_point.h).
  const std::size_t per_rank = saturating_mul(2, plan.max_bytes);
  const std::string what = "send and receive buffers of " + format_bytes(plan.max_bytes);
  std::size_t most_ranks = 0;
  for (const auto& devices : plan.device_lists) {
    check_device_memory(backend, devices, per_rank, "max_bytes", what);
    most_ranks = std::max(most_ranks, devices.size());
  }
  // On the host: every rank's input, a staging copy per check worker and the reference (doubles).
  const std::size_t workers = std::min<std::size_t>(std::max(1u, std::thread::hardware_concurrency()), most_ranks);
  std::size_t host = saturating_mul(most_ranks + workers, plan.max_bytes);
  if (plan.check) host = saturating_add(host, saturating_mul(plan.max_bytes / smallest_elem, sizeof(double)));
  check_host_memory(host, "max_bytes", "inputs, reference and staging copies of " + format_bytes(plan.max_bytes));
}

}  // namespace dpb
