// All-reduce conformance (test_allreduce_conformance.cpp says what is checked): the cases and the
// parameterised test, shared by the cpu test binary (its Cpu instance) and the gpu one (its Cuda
// instance, test_cuda_allreduce_conformance.cpp).
#pragma once
#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <vector>

#include "collectives/allreduce_check.h"
#include "collectives/communicator.h"
#include "device/backend.h"

namespace dpb::test {

struct Case {
  BackendKind backend = BackendKind::cpu;
  std::string algo;
  int ranks = 1;
  std::size_t count = 0;
  DType type = DType::f32;
  bool in_place = false;
  bool shared_devices = false;  // all ranks on device 0
  InputPattern pattern = InputPattern::integers;
  CommunicatorOptions options;
  int calls = 1;  // back-to-back calls on the same buffers (inputs refilled in between)
};

// "p2p_ring_4ranks_997_fp32_outofplace": the case's name in test ids.
std::string case_name(const Case& c);
// gtest prints a parameter through PrintTo; without it ctest lists every case as a byte dump.
void PrintTo(const Case& c, std::ostream* os);
// Every case for `backend` (the NCCL algorithms too on cuda).
std::vector<Case> make_cases(BackendKind backend);

class AllreduceConformance : public ::testing::TestWithParam<Case> {};

}  // namespace dpb::test
