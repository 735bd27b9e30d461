// The all-reduce conformance test (allreduce_conformance.h) on the cuda backend, with the NCCL
// algorithms: gpu test binary; each case skips with a message where no (or too few) GPU is visible.
#include <gtest/gtest.h>

#include "allreduce_conformance.h"

namespace dpb::test {
namespace {

INSTANTIATE_TEST_SUITE_P(Cuda, AllreduceConformance, ::testing::ValuesIn(make_cases(BackendKind::cuda)),
                         [](const auto& tp) { return case_name(tp.param); });

}  // namespace
}  // namespace dpb::test
