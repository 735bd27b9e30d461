// The collectives' element kernels (kernels/elementwise_body.h: fill, reduce_add, scale, cast) run
// under the CUDA emulation with the launch shape of kernels/elementwise.cu, against the cpu
// backend's loops (core/device/cpu_elementwise.cpp), bit for bit, for every dtype, at sizes either
// side of the warp, block and vector edges, on aligned (vector path) and unaligned (scalar path)
// pointers.
#include <gtest/gtest.h>

#include <string>

#include "device/cpu_elementwise.h"
#include "emulated_kernels.h"
#include "kernel_test_support.h"

namespace dpb {
namespace {

using kernel_test::describe;
using kernel_test::ElementBuffer;
using kernel_test::expect_same_elements;
using kernel_test::kEdgeSizes;
using kernel_test::random_elements;

class EmulatedElementwise : public ::testing::TestWithParam<DType> {};

TEST_P(EmulatedElementwise, FillMatchesCpuBitForBit) {
  const DType type = GetParam();
  for (std::size_t count : kEdgeSizes) {
    for (std::size_t offset : {0u, 1u}) {
      for (double v : {-3.14159, 70000.0}) {
        ElementBuffer cpu(type, count, offset), emu(type, count, offset);
        cpu::fill(type, cpu.data(), count, v);
        emulated::fill(type, emu.data(), count, v);
        expect_same_elements(cpu, emu, "fill " + std::to_string(v) + " " + describe(type, count, offset));
      }
    }
  }
}

TEST_P(EmulatedElementwise, ReduceAddMatchesCpuBitForBit) {
  const DType type = GetParam();
  for (std::size_t count : kEdgeSizes) {
    for (std::size_t offset : {0u, 1u}) {
      ElementBuffer cpu(type, count, offset), emu(type, count, offset), src(type, count, offset);
      cpu.set_bytes(random_elements(type, count, 1));
      emu.set_bytes(cpu.raw());
      src.set_bytes(random_elements(type, count, 2));
      cpu::reduce_add(type, cpu.data(), src.data(), count);
      emulated::reduce_add(type, emu.data(), src.data(), count);
      expect_same_elements(cpu, emu, "reduce_add " + describe(type, count, offset));
    }
  }
}

TEST_P(EmulatedElementwise, ScaleMatchesCpuBitForBit) {
  const DType type = GetParam();
  for (std::size_t count : kEdgeSizes) {
    for (std::size_t offset : {0u, 1u}) {
      for (float f : {0.37f, -3.0f}) {
        ElementBuffer cpu(type, count, offset), emu(type, count, offset);
        cpu.set_bytes(random_elements(type, count, 3));
        emu.set_bytes(cpu.raw());
        cpu::scale(type, cpu.data(), count, f);
        emulated::scale(type, emu.data(), count, f);
        expect_same_elements(cpu, emu, "scale " + std::to_string(f) + " " + describe(type, count, offset));
      }
    }
  }
}

TEST_P(EmulatedElementwise, CastToEveryTypeMatchesCpuBitForBit) {
  const DType from = GetParam();
  for (std::size_t count : kEdgeSizes) {
    for (std::size_t offset : {0u, 1u}) {
      ElementBuffer src(from, count, offset);
      src.set_bytes(random_elements(from, count, 4));
      for (DType to : kAllDTypes) {
        ElementBuffer cpu(to, count, offset), emu(to, count, offset);
        cpu::cast(to, cpu.data(), from, src.data(), count);
        emulated::cast(to, emu.data(), from, src.data(), count);
        expect_same_elements(cpu, emu,
                             "cast to " + std::string(dtype_name(to)) + " from " + describe(from, count, offset));
      }
    }
  }
}

// Every element written once and only once: a fill and a scale between guard elements leave the
// guards alone, on the vector path (the inner range starts on a 16-byte boundary) and the scalar one.
TEST_P(EmulatedElementwise, WritesStayInsideTheBuffer) {
  const DType type = GetParam();
  const std::size_t inner_aligned = 16 / dtype_size(type) - 1;
  for (std::size_t count : kEdgeSizes) {
    for (std::size_t offset : {inner_aligned, std::size_t{0}}) {
      ElementBuffer buf(type, count + 2, offset);
      cpu::fill(type, buf.data(), count + 2, 5.0);
      void* inner = static_cast<char*>(buf.data()) + dtype_size(type);
      emulated::fill(type, inner, count, -1.0);
      emulated::scale(type, inner, count, 2.0f);
      const std::string what = describe(type, count, offset == 0) + " (between guards)";
      EXPECT_EQ(buf.at(0), 5.0f) << what;
      EXPECT_EQ(buf.at(count + 1), 5.0f) << what;
      for (std::size_t i = 1; i <= count; ++i) ASSERT_EQ(buf.at(i), -2.0f) << i << " " << what;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllTypes, EmulatedElementwise, ::testing::ValuesIn(kAllDTypes),
                         [](const auto& param_info) { return std::string(dtype_name(param_info.param)); });

}  // namespace
}  // namespace dpb
