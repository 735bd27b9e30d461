// Up-front checks of an all-reduce sweep (before its first point runs): every size holds at least
// one element of every dtype (setting "min_bytes"), and the largest point's buffers fit on every
// device and on the host (setting "max_bytes"). Throws SettingError; bench/ names the flag.
#pragma once
#include <cstddef>
#include <vector>

#include "device/backend.h"
#include "device/dtype.h"

namespace dpb {

struct AllreducePlanShape {
  std::vector<std::vector<int>> device_lists;  // one per rank count: rank r on list[r]
  std::vector<DType> dtypes;
  std::size_t min_bytes = 0, max_bytes = 0;
  bool check = true;  // host inputs and reference are kept for the correctness check
};

void check_allreduce_plan(const Backend& backend, const AllreducePlanShape& plan);

}  // namespace dpb
