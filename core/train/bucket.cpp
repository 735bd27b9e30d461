#include "train/bucket.h"

#include <cmath>
#include <stdexcept>

namespace dpb {

BucketPlan assign_buckets(const std::vector<ParamTensor>& params, std::size_t element_size, std::size_t bucket_bytes,
                          std::size_t first_bucket_bytes) {
  if (element_size == 0) throw std::invalid_argument("assign_buckets: element size 0");
  BucketPlan plan;
  plan.element_size = element_size;
  plan.param_offset.assign(params.size(), 0);
  plan.param_bucket.assign(params.size(), -1);

  Bucket open;
  std::size_t open_unpadded_bytes = 0;
  auto close = [&] {
    open.index = static_cast<int>(plan.buckets.size());
    open.bytes = open.elements * element_size;
    plan.buckets.push_back(std::move(open));
    open = Bucket{};
    open_unpadded_bytes = 0;
  };
  std::size_t offset = 0;
  for (std::size_t k = params.size(); k-- > 0;) {
    const std::size_t cap = plan.buckets.empty() ? first_bucket_bytes : bucket_bytes;
    if (open.params.empty()) open.offset = offset;
    const std::size_t padded = (params[k].count() + kParamAlignElems - 1) / kParamAlignElems * kParamAlignElems;
    plan.param_offset[k] = offset;
    plan.param_bucket[k] = static_cast<int>(plan.buckets.size());
    open.params.push_back(static_cast<int>(k));
    open.elements += padded;
    offset += padded;
    // The cap is compared with the tensors' own sizes (as DDP), not the alignment padding.
    open_unpadded_bytes += params[k].count() * element_size;
    if (open_unpadded_bytes >= cap) close();
  }
  if (!open.params.empty()) close();
  plan.total_elements = offset;
  return plan;
}

std::size_t mib_to_bytes(double mib) {
  if (!(mib >= 0) || !std::isfinite(mib)) throw std::invalid_argument("bucket size must be a non-negative number of MiB");
  return static_cast<std::size_t>(std::llround(mib * 1024.0 * 1024.0));
}

}  // namespace dpb
