// The model layers' kernels (kernels/train_layers_body.h) run under the CUDA emulation with the
// launch shapes of kernels/train_layers.cu, against the cpu backend's loops
// (core/device/cpu_train_kernels.cpp): bias + activation and activation backward bit for bit (same
// formulas, same host libm), bias gradient bit for bit (same summation order), softmax cross-entropy
// within rounding (its block reductions add in a different order), plus the block reduction itself
// at every block size the kernels may use.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "block_reduce.h"
#include "cuda_emulation.h"
#include "device/dtype_dispatch.h"
#include "emulated_kernels.h"
#include "kernel_test_support.h"
#include "device/cpu_train_kernels.h"
#include "train_layers_body.h"

namespace dpb {
namespace {

using kernel_test::ElementBuffer;
using kernel_test::expect_close_elements;
using kernel_test::expect_same_elements;
using kernel_test::kEdgeSizes;
using kernel_test::random_values;

struct Shape {
  int rows, cols;
};
std::string describe(DType t, Shape s) {
  return std::string(dtype_name(t)) + " " + std::to_string(s.rows) + "x" + std::to_string(s.cols);
}
std::size_t elems(Shape s) { return static_cast<std::size_t>(s.rows) * static_cast<std::size_t>(s.cols); }

// Shapes whose element counts cross the warp, block and grid edges, and column counts either side
// of the bias-gradient kernel's 32-column tiles.
const std::vector<Shape> kShapes = {{1, 1}, {1, 31}, {1, 33}, {3, 341}, {7, 37}, {17, 241}, {9, 33}, {33, 70}};

class EmulatedTrainLayers : public ::testing::TestWithParam<DType> {};

TEST_P(EmulatedTrainLayers, BiasActivationMatchesCpuBitForBit) {
  const DType t = GetParam();
  for (Shape s : kShapes) {
    for (Activation act : {Activation::relu, Activation::gelu}) {
      for (bool with_a : {true, false}) {
        const std::string what =
            describe(t, s) + (act == Activation::relu ? " relu" : " gelu") + (with_a ? "" : " z only");
        ElementBuffer z_cpu(t, random_values(elems(s), 1, 3.0f)), z_emu = z_cpu;
        const ElementBuffer bias(t, random_values(static_cast<std::size_t>(s.cols), 2));
        ElementBuffer a_cpu(t, elems(s)), a_emu(t, elems(s));
        cpu::bias_activation(t, act, z_cpu.data(), bias.data(), with_a ? a_cpu.data() : nullptr, s.rows, s.cols);
        emulated::bias_activation(t, act, z_emu.data(), bias.data(), with_a ? a_emu.data() : nullptr, s.rows, s.cols);
        expect_same_elements(z_cpu, z_emu, "z " + what);
        expect_same_elements(a_cpu, a_emu, "a " + what);
      }
    }
  }
}

TEST_P(EmulatedTrainLayers, ActivationBackwardMatchesCpuBitForBit) {
  const DType t = GetParam();
  for (std::size_t n : kEdgeSizes) {
    for (Activation act : {Activation::relu, Activation::gelu}) {
      const ElementBuffer z(t, random_values(n, 3, 3.0f));
      ElementBuffer g_cpu(t, random_values(n, 4)), g_emu = g_cpu;
      cpu::activation_backward(t, act, g_cpu.data(), z.data(), n);
      emulated::activation_backward(t, act, g_emu.data(), z.data(), n);
      expect_same_elements(g_cpu, g_emu, std::string(dtype_name(t)) + " x" + std::to_string(n));
    }
  }
}

TEST_P(EmulatedTrainLayers, BiasGradMatchesCpuBitForBit) {
  const DType t = GetParam();
  std::vector<Shape> shapes = kShapes;
  shapes.insert(shapes.end(), {{0, 5}, {1000, 5}, {100, 1023}, {8, 64}});
  for (Shape s : shapes) {
    const ElementBuffer dz(t, random_values(elems(s), 5));
    ElementBuffer db_cpu(t, static_cast<std::size_t>(s.cols)), db_emu(t, static_cast<std::size_t>(s.cols));
    db_emu.set_bytes(kernel_test::random_elements(t, db_emu.size(), 6));  // every column must be written
    cpu::bias_grad(t, dz.data(), db_cpu.data(), s.rows, s.cols);
    emulated::bias_grad(t, dz.data(), db_emu.data(), s.rows, s.cols);
    expect_same_elements(db_cpu, db_emu, "bias grad " + describe(t, s));
    // And both are the column sums (within one rounding per row of accumulated error).
    for (int j = 0; j < s.cols; ++j) {
      double ref = 0, mag = 0;
      for (int r = 0; r < s.rows; ++r) {
        const double v =
            dz.at(static_cast<std::size_t>(r) * static_cast<std::size_t>(s.cols) + static_cast<std::size_t>(j));
        ref += v;
        mag += std::abs(v);
      }
      const double tol = kernel_test::ulp(t, ref) + 1e-6 * mag;
      ASSERT_NEAR(db_emu.at(static_cast<std::size_t>(j)), ref, tol) << "column " << j << " " << describe(t, s);
    }
  }
}

// More column tiles than blocks: the kernel's grid-stride loop over tiles (taken on a GPU past
// 65,535 tiles) covers every column, and the shared partials are reused tile after tile.
TEST_P(EmulatedTrainLayers, BiasGradGridStridesOverColumnTiles) {
  const DType t = GetParam();
  const Shape s{19, 200};  // 7 tiles of 32 columns, the last partial
  const ElementBuffer dz(t, random_values(elems(s), 7));
  ElementBuffer db_cpu(t, 200), db_emu(t, 200);
  cpu::bias_grad(t, dz.data(), db_cpu.data(), s.rows, s.cols);
  dispatch_dtype(t, [&](auto tag) {
    using T = decltype(tag);
    emu::launch(2, kernels::kBiasGradBlock, [&](const emu::Thread& th) {
      kernels::bias_grad_body<T>(th, static_cast<const T*>(dz.data()), static_cast<T*>(db_emu.data()), 19, 200,
                                 th.shared<kernels::BiasGradShared>());
    });
  });
  expect_same_elements(db_cpu, db_emu, "bias grad, 2 blocks for 7 tiles " + describe(t, s));
}

// Labels at the first, middle and last class of each row.
std::vector<std::int32_t> labels_for(int rows, int classes) {
  std::vector<std::int32_t> labels(static_cast<std::size_t>(rows));
  for (int r = 0; r < rows; ++r)
    labels[static_cast<std::size_t>(r)] = (r % 3 == 0) ? 0 : (r % 3 == 1) ? classes / 2 : classes - 1;
  return labels;
}

TEST_P(EmulatedTrainLayers, SoftmaxCrossEntropyMatchesCpu) {
  const DType t = GetParam();
  // 10 classes on a 128-thread block: four warps, three of them without a class.
  for (int classes : {1, 10, 31, 33, 128, 129, 1000}) {
    const int rows = 3;
    const float scale = 0.25f;
    const Shape s{rows, classes};
    const ElementBuffer logits(t, random_values(elems(s), 8, 4.0f));
    const auto labels = labels_for(rows, classes);
    ElementBuffer d_cpu(t, elems(s)), d_emu(t, elems(s));
    std::vector<float> loss_cpu(rows), loss_emu(rows);
    cpu::softmax_xent(t, logits.data(), labels.data(), rows, classes, scale, d_cpu.data(), loss_cpu.data());
    emulated::softmax_xent(t, logits.data(), labels.data(), rows, classes, scale, d_emu.data(), loss_emu.data());
    // The exp sums differ only in the order of their additions: a few fp32 roundings, then one
    // rounding to the type, which may land one unit either way.
    expect_close_elements(d_cpu, d_emu, 1.0, 1e-5 * scale, "dlogits " + describe(t, s));
    for (int r = 0; r < rows; ++r) {
      const auto i = static_cast<std::size_t>(r);
      EXPECT_NEAR(loss_emu[i], loss_cpu[i], 1e-5 * (1.0 + std::abs(loss_cpu[i])))
          << "loss row " << r << " " << describe(t, s);
    }
  }
}

// Equal logits: every probability is exactly 1/classes, whatever the summation order.
TEST_P(EmulatedTrainLayers, SoftmaxOfEqualLogitsIsUniform) {
  const DType t = GetParam();
  for (int classes : {10, 100}) {
    const Shape s{2, classes};
    const ElementBuffer logits(t, std::vector<float>(elems(s), 0.5f));
    const std::vector<std::int32_t> labels = {0, classes - 1};
    ElementBuffer d(t, elems(s));
    std::vector<float> loss(2);
    emulated::softmax_xent(t, logits.data(), labels.data(), 2, classes, 1.0f, d.data(), loss.data());
    for (std::size_t i = 0; i < elems(s); ++i) {
      const std::size_t row = i / static_cast<std::size_t>(classes), col = i % static_cast<std::size_t>(classes);
      const double ref = 1.0 / classes - (static_cast<std::int32_t>(col) == labels[row] ? 1.0 : 0.0);
      ASSERT_NEAR(d.at(i), ref, kernel_test::ulp(t, ref) + 1e-6) << "element " << i << " " << describe(t, s);
    }
    for (float l : loss) EXPECT_NEAR(l, std::log(static_cast<double>(classes)), 1e-5) << describe(t, s);
  }
}

// An out-of-range label is reported as a NaN loss (the cpu backend throws instead); its gradient row
// is the softmax alone, and the other rows are unaffected.
TEST_P(EmulatedTrainLayers, SoftmaxOutOfRangeLabelGivesNaNLoss) {
  const DType t = GetParam();
  const int classes = 10;
  const std::size_t width = classes;
  const ElementBuffer logits(t, random_values(3 * width, 9, 2.0f));
  const std::vector<std::int32_t> labels = {-1, 4, classes};
  ElementBuffer d(t, 3 * width);
  std::vector<float> loss(3);
  emulated::softmax_xent(t, logits.data(), labels.data(), 3, classes, 1.0f, d.data(), loss.data());
  EXPECT_TRUE(std::isnan(loss[0]));
  EXPECT_FALSE(std::isnan(loss[1]));
  EXPECT_TRUE(std::isnan(loss[2]));
  for (std::size_t j = 0; j < 3 * width; ++j) EXPECT_FALSE(std::isnan(d.at(j))) << j;
  for (std::size_t row : {std::size_t{0}, std::size_t{2}}) {
    double sum = 0;
    for (std::size_t j = 0; j < width; ++j) sum += d.at(row * width + j);
    EXPECT_NEAR(sum, 1.0, 8 * kernel_test::ulp(t, 1.0)) << "row " << row;
  }
}

INSTANTIATE_TEST_SUITE_P(AllTypes, EmulatedTrainLayers, ::testing::ValuesIn(kAllDTypes),
                         [](const auto& param_info) { return std::string(dtype_name(param_info.param)); });

// The block reduction at every block size a kernel may launch with: each thread contributes its
// index + 1, so the sum is n(n+1)/2 and the max n, exact in fp32 for n <= 1024.
TEST(EmulatedBlockReduce, SumAndMaxAtEveryWarpCount) {
  for (unsigned block : {32u, 64u, 96u, 128u, 256u, 1024u}) {
    std::vector<float> sums(block), maxes(block);
    emu::launch(1, block, [&](const emu::Thread& th) {
      auto& shared = th.shared<kernels::BlockReduceShared>();
      const float v = static_cast<float>(th.thread_idx() + 1);
      sums[th.thread_idx()] = kernels::block_reduce(th, v, kernels::SumOp{}, shared);
      maxes[th.thread_idx()] = kernels::block_reduce(th, -v, kernels::MaxOp{}, shared);  // max of negatives: -1
    });
    const float n = static_cast<float>(block);
    for (unsigned i = 0; i < block; ++i) {
      ASSERT_EQ(sums[i], n * (n + 1) / 2) << "block " << block << " thread " << i;
      ASSERT_EQ(maxes[i], -1.0f) << "block " << block << " thread " << i;
    }
  }
}

}  // namespace
}  // namespace dpb
