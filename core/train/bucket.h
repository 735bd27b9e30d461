// Gradient buckets as PyTorch DDP forms them (torch/csrc/distributed/c10d/reducer.cpp,
// compute_bucket_assignment_by_size; FACTS.md): parameters are walked in REVERSE registration
// order, which approximates the order backward produces their gradients, and appended to the open
// bucket; a bucket closes as soon as its size reaches its cap. The first bucket's cap is
// first_bucket_bytes (small, so the first all-reduce starts early), every later one bucket_bytes.
// Consequences, all as in DDP: a tensor larger than the cap closes the bucket it lands in (it is
// never split); cap 0 gives one bucket per tensor; a huge cap gives one bucket for everything.
//
// The flat layout: every per-parameter buffer of a replica (gradients, fp32 master weights,
// low-precision weights, optimizer state) is one allocation laid out bucket by bucket, so a
// bucket's gradients are a contiguous slice that the all-reduce works on in place
// (gradient_as_bucket_view) and the optimizer runs once over the whole buffer. Each tensor starts
// at a multiple of kParamAlignElems elements so GEMM operands stay aligned; the padding is zero
// and is all-reduced with its bucket (and counted in the bucket's bytes).
#pragma once
#include <cstddef>
#include <string>
#include <vector>

#include "train/model_spec.h"

namespace dpb {

inline constexpr std::size_t kParamAlignElems = 64;

struct Bucket {
  int index = 0;
  std::vector<int> params;     // indices into the model's params(), in assignment (reverse) order
  std::size_t offset = 0;      // first element in the flat layout
  std::size_t elements = 0;    // including alignment padding
  std::size_t bytes = 0;       // elements * element size
};

struct BucketPlan {
  std::vector<Bucket> buckets;
  std::vector<std::size_t> param_offset;  // per param (registration order): element offset in the layout
  std::vector<int> param_bucket;          // per param: its bucket
  std::size_t total_elements = 0;         // size of the flat layout
  std::size_t element_size = 0;
};

// Assigns `params` (registration order) to buckets. Caps are in bytes of gradients of
// `element_size` bytes each (2 for fp16/bf16 gradients: twice as many elements fit).
BucketPlan assign_buckets(const std::vector<ParamTensor>& params, std::size_t element_size, std::size_t bucket_bytes,
                          std::size_t first_bucket_bytes);

// Bytes for --bucket-mb / --first-bucket-mb values (MiB, as DDP's bucket_cap_mb; fractions allowed).
std::size_t mib_to_bytes(double mib);

}  // namespace dpb
