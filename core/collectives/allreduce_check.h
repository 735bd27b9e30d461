// Checking an all-reduce: deterministic per-rank inputs generated on the host, the exact reference
// sum, and a count of wrong elements (as nccl-tests reports). Shared by the conformance tests and
// `dpbench allreduce`.
//
// Inputs are non-negative and depend on rank and index (a hash, so a misplaced chunk is caught).
// The reference is the sum, in double, of the inputs as rounded to the dtype. Tolerance:
// - InputPattern::integers: small integers chosen so that every partial sum, in any order, is an
//   integer the dtype holds exactly (at most 2^24, 2048, 256 for fp32, fp16, bf16). No addition
//   ever rounds, so the result must match exactly: tolerance 0.
// - InputPattern::fractions: multiples of 1/16 below 32, so fp16/bf16 sums do round. A sum of n
//   inputs takes n-1 additions, each in fp32 and rounded once to the dtype (kernels/reduce_math.h)
//   with error at most half an ulp of the rounded partial sum; partial sums of non-negative inputs
//   never exceed the final sum, but one may round up into the next binade, where the ulp doubles.
//   Hence tolerance = (n-1) * ulp(|reference|).
#pragma once
#include <cstddef>
#include <span>
#include <string_view>
#include <vector>

#include "device/dtype.h"

namespace dpb {

enum class InputPattern { integers, fractions };

std::string_view input_pattern_name(InputPattern pattern);

struct CheckResult {
  std::size_t wrong = 0;
  std::size_t checked = 0;
  double tolerance = 0;      // the largest per-element tolerance applied
  double max_abs_error = 0;  // largest |output - reference|; infinity when an output is NaN
  bool ok() const { return wrong == 0; }
  void merge(const CheckResult& other);
};

// What rank `rank` of `ranks` contributes at element `index`, already rounded to `type`.
double allreduce_input_value(DType type, InputPattern pattern, int rank, int ranks, std::size_t index);

// Writes rank's inputs for elements [first, first + n) into `out` (host memory, n = out.size() /
// dtype_size(type), in the dtype's storage format: ready for copy_from_host).
void fill_allreduce_input(DType type, InputPattern pattern, int rank, int ranks, std::span<std::byte> out,
                          std::size_t first = 0);

// Unit in the last place of |x| in `type` (0 for x = 0).
double dtype_ulp(DType type, double x);

// The tolerance for one element whose exact reference is `reference` (see the header comment).
double allreduce_tolerance(DType type, InputPattern pattern, int ranks, double reference);

// Reference sums for elements [first, first + count), computed once and compared against any
// number of outputs (every rank's result is the same sum).
class AllreduceReference {
 public:
  AllreduceReference(DType type, InputPattern pattern, int ranks, std::size_t first, std::size_t count);
  std::size_t count() const { return expected_.size(); }
  double expected(std::size_t i) const { return expected_[i]; }
  // Compares `output` (host copy of `count()` elements in the dtype's storage format).
  CheckResult check(std::span<const std::byte> output) const;

 private:
  DType type_;
  InputPattern pattern_;
  int ranks_;
  std::vector<double> expected_;
};

// One-shot check of one output covering elements [first, first + output.size() / dtype_size).
CheckResult check_allreduce_output(DType type, InputPattern pattern, int ranks, std::span<const std::byte> output,
                                   std::size_t first = 0);

}  // namespace dpb
