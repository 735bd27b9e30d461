// The cpu backend's model kernels (core/device/cpu_train_kernels.cpp through CpuModelOps on a
// CpuStream) against straightforward double-precision references: GEMM in every transpose and
// precision, the layer epilogue, activation derivatives, bias gradient, softmax cross-entropy and
// the non-finite check.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "device/cpu_backend.h"
#include "device/model_ops.h"
#include "train/synthetic_data.h"

namespace dpb {
namespace {

// Host storage of `type` holding values rounded from `v`.
struct Typed {
  DType type;
  std::vector<std::uint16_t> half;
  std::vector<float> full;
  Typed(DType t, const std::vector<float>& v) : type(t) {
    if (t == DType::f32) {
      full = v;
    } else {
      for (float x : v) half.push_back(t == DType::f16 ? f16_from_float(x).bits : bf16_from_float(x).bits);
    }
  }
  void* data() { return type == DType::f32 ? static_cast<void*>(full.data()) : static_cast<void*>(half.data()); }
  float at(std::size_t i) const {
    if (type == DType::f32) return full[i];
    return type == DType::f16 ? to_float(f16{half[i]}) : to_float(bf16{half[i]});
  }
};

std::vector<float> random_values(std::size_t n, std::uint64_t stream, float scale = 1.0f) {
  std::vector<float> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = scale * hashed_uniform(42, stream, i);
  return v;
}

// Relative rounding unit of the type: the GEMM output is rounded once to it.
double unit(DType t) { return t == DType::f32 ? 1e-6 : t == DType::f16 ? 1.0 / 1024 : 1.0 / 128; }

class ModelOpsTest : public ::testing::TestWithParam<DType> {
 protected:
  CpuBackend backend;
  std::unique_ptr<Stream> stream = backend.make_stream(0);
  std::unique_ptr<ModelOps> ops = backend.make_model_ops(*stream);
};

TEST_P(ModelOpsTest, GemmMatchesReferenceForEveryTranspose) {
  const DType t = GetParam();
  const int m = 5, n = 7, k = 9, pad = 3;  // leading dimensions padded past the rows
  for (int ta = 0; ta < 2; ++ta) {
    for (int tb = 0; tb < 2; ++tb) {
      const int a_rows = ta ? k : m, a_cols = ta ? m : k;
      const int b_rows = tb ? n : k, b_cols = tb ? k : n;
      const GemmShape s{ta == 1, tb == 1, m, n, k, a_cols + pad, b_cols + pad, n + pad};
      Typed a(t, random_values(static_cast<std::size_t>(a_rows * s.lda), 1));
      Typed b(t, random_values(static_cast<std::size_t>(b_rows * s.ldb), 2));
      Typed c(t, std::vector<float>(static_cast<std::size_t>(m * s.ldc), 7.0f));
      ops->gemm(t, s, a.data(), b.data(), c.data());
      stream->synchronize();
      for (int i = 0; i < m; ++i) {
        for (int j = 0; j < n; ++j) {
          double ref = 0, mag = 0;
          for (int p = 0; p < k; ++p) {
            const double av = a.at(static_cast<std::size_t>(ta ? p * s.lda + i : i * s.lda + p));
            const double bv = b.at(static_cast<std::size_t>(tb ? j * s.ldb + p : p * s.ldb + j));
            ref += av * bv;
            mag += std::abs(av * bv);
          }
          EXPECT_NEAR(c.at(static_cast<std::size_t>(i * s.ldc + j)), ref, unit(t) * (std::abs(ref) + 1e-3 * mag) + 1e-6)
              << "ta=" << ta << " tb=" << tb << " i=" << i << " j=" << j;
        }
        // Padding columns of C are not written.
        EXPECT_EQ(c.at(static_cast<std::size_t>(i * s.ldc + n)), 7.0f);
      }
    }
  }
}

TEST_P(ModelOpsTest, BiasActivationAndItsBackward) {
  const DType t = GetParam();
  const int rows = 3, cols = 8;
  for (Activation act : {Activation::relu, Activation::gelu}) {
    const auto zv = random_values(rows * cols, 3, 3.0f);
    const auto bv = random_values(cols, 4);
    Typed z(t, zv), bias(t, bv), a(t, std::vector<float>(rows * cols, 0.0f));
    Typed zin = z;
    ops->bias_activation(t, act, z.data(), bias.data(), a.data(), rows, cols);
    Typed grad(t, random_values(rows * cols, 5));
    Typed grad_in = grad;
    ops->activation_backward(t, act, grad.data(), z.data(), rows * cols);
    stream->synchronize();
    for (std::size_t i = 0; i < static_cast<std::size_t>(rows * cols); ++i) {
      const double pre = static_cast<double>(zin.at(i)) + bias.at(i % cols);
      EXPECT_NEAR(z.at(i), pre, unit(t) * std::abs(pre) + 1e-7);
      const double x = z.at(i);
      const double ref = act == Activation::relu ? std::max(x, 0.0)
                                                 : 0.5 * x * (1 + std::tanh(0.7978845608028654 * (x + 0.044715 * x * x * x)));
      EXPECT_NEAR(a.at(i), ref, unit(t) * std::abs(ref) + 1e-6);
      // Derivative by central difference of the same function.
      const double h = 1e-4;
      auto f = [&](double v) {
        return act == Activation::relu ? std::max(v, 0.0)
                                       : 0.5 * v * (1 + std::tanh(0.7978845608028654 * (v + 0.044715 * v * v * v)));
      };
      const double d = (f(x + h) - f(x - h)) / (2 * h);
      EXPECT_NEAR(grad.at(i), grad_in.at(i) * d, unit(t) * std::abs(grad_in.at(i) * d) + 1e-4);
    }
  }
}

TEST_P(ModelOpsTest, BiasGradSumsOverRows) {
  const DType t = GetParam();
  const int rows = 6, cols = 5;
  Typed dz(t, random_values(rows * cols, 6)), db(t, std::vector<float>(cols, 0.0f));
  ops->bias_grad(t, dz.data(), db.data(), rows, cols);
  stream->synchronize();
  for (int j = 0; j < cols; ++j) {
    double ref = 0;
    for (int r = 0; r < rows; ++r) ref += dz.at(static_cast<std::size_t>(r * cols + j));
    EXPECT_NEAR(db.at(static_cast<std::size_t>(j)), ref, unit(t) * std::abs(ref) + 1e-6);
  }
}

TEST_P(ModelOpsTest, SoftmaxCrossEntropyLossAndGradient) {
  const DType t = GetParam();
  const int rows = 4, classes = 6;
  const float scale = 0.25f;
  Typed logits(t, random_values(rows * classes, 7, 4.0f)), dlogits(t, std::vector<float>(rows * classes, 0.0f));
  const std::vector<std::int32_t> labels = {0, 5, 2, 2};
  std::vector<float> loss(rows, -1.0f);
  ops->softmax_xent(t, logits.data(), labels.data(), rows, classes, scale, dlogits.data(), loss.data());
  stream->synchronize();
  for (int r = 0; r < rows; ++r) {
    double mx = -1e30, sum = 0;
    for (int j = 0; j < classes; ++j) mx = std::max(mx, static_cast<double>(logits.at(static_cast<std::size_t>(r * classes + j))));
    for (int j = 0; j < classes; ++j) sum += std::exp(logits.at(static_cast<std::size_t>(r * classes + j)) - mx);
    const double ref_loss = std::log(sum) + mx - logits.at(static_cast<std::size_t>(r * classes + labels[static_cast<std::size_t>(r)]));
    EXPECT_NEAR(loss[static_cast<std::size_t>(r)], ref_loss, 1e-5 * (1 + ref_loss));
    double grad_sum = 0;
    for (int j = 0; j < classes; ++j) {
      const double p = std::exp(logits.at(static_cast<std::size_t>(r * classes + j)) - mx) / sum;
      const double ref = (p - (j == labels[static_cast<std::size_t>(r)] ? 1.0 : 0.0)) * scale;
      const double got = dlogits.at(static_cast<std::size_t>(r * classes + j));
      EXPECT_NEAR(got, ref, unit(t) * std::abs(ref) + 1e-6);
      grad_sum += got;
    }
    EXPECT_NEAR(grad_sum, 0.0, 8 * unit(t) * scale);  // softmax minus one-hot sums to zero
  }
}

TEST_P(ModelOpsTest, NonfiniteCheckFindsInfAndNaNOnly) {
  const DType t = GetParam();
  std::vector<float> v = random_values(1000, 8, 100.0f);
  float flag = 0.0f;
  Typed clean(t, v);
  ops->check_nonfinite(t, clean.data(), v.size(), &flag);
  stream->synchronize();
  EXPECT_EQ(flag, 0.0f);
  for (float bad : {std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(),
                    std::numeric_limits<float>::quiet_NaN()}) {
    v[777] = bad;
    Typed dirty(t, v);
    flag = 0.0f;
    ops->check_nonfinite(t, dirty.data(), v.size(), &flag);
    stream->synchronize();
    EXPECT_EQ(flag, 1.0f) << bad;
  }
}

INSTANTIATE_TEST_SUITE_P(AllPrecisions, ModelOpsTest, ::testing::Values(DType::f32, DType::f16, DType::bf16),
                         [](const ::testing::TestParamInfo<DType>& p) { return std::string(dtype_name(p.param)); });

}  // namespace
}  // namespace dpb
