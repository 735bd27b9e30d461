// The CUDA kernels on a GPU against the cpu backend's loops, on the emulated tests' cases
// (test_emulated_*.cpp): element kernels at the warp/block/vector edge sizes, the model layers, the
// optimizer tail, and the stream-blocking kernel's timeout count. Bit for bit where both sides run
// the same IEEE operations (train_math.h's claim, which needs --fmad=false); within an ulp or two
// where the device's expf/tanhf differ from libm's. gpu-labelled: skips with a message without a
// visible GPU.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "device/backend.h"
#include "device/cpu_elementwise.h"
#include "gpu_test_support.h"
#include "kernel_test_support.h"
#include "device/stream_gate.h"
#include "device/cpu_train_kernels.h"
#include "device/model_ops.h"

namespace dpb {
namespace {

using kernel_test::describe;
using kernel_test::ElementBuffer;
using kernel_test::expect_close_elements;
using kernel_test::expect_same_elements;
using kernel_test::kEdgeSizes;
using kernel_test::random_elements;
using kernel_test::random_values;

class CudaKernels : public ::testing::TestWithParam<DType> {
 protected:
  void SetUp() override {
    DPB_REQUIRE_GPU();
    backend = make_backend(BackendKind::cuda);
    stream = backend->make_stream(0);
    ops = backend->make_model_ops(*stream);
  }

  // A device copy of `bytes` host bytes, `offset` bytes past a 256-byte-aligned allocation (so the
  // alignment the kernels choose their path by is the host buffer's).
  struct OnDevice {
    DeviceBuffer buffer;
    std::size_t offset, bytes;
    void* data() const { return static_cast<char*>(buffer.data()) + offset; }
  };
  OnDevice upload(const void* host, std::size_t bytes, std::size_t offset = 0) {
    OnDevice d{backend->allocate(0, offset + bytes + 1), offset, bytes};
    if (bytes) stream->copy_from_host(d.data(), host, bytes);
    stream->synchronize();  // the tests go on to change the host copy (the cpu side's input)
    return d;
  }
  OnDevice upload(const ElementBuffer& b) {
    return upload(b.data(), b.bytes(), reinterpret_cast<std::uintptr_t>(b.data()) % 16);
  }
  template <class T>
  OnDevice upload(const std::vector<T>& v) {
    return upload(v.data(), v.size() * sizeof(T));
  }
  void download(const OnDevice& d, void* host) {
    if (d.bytes) stream->copy_to_host(host, d.data(), d.bytes);
    stream->synchronize();
  }

  std::unique_ptr<Backend> backend;
  std::unique_ptr<Stream> stream;
  std::unique_ptr<ModelOps> ops;
};

TEST_P(CudaKernels, ElementKernelsAtEdgeSizesMatchCpuBitForBit) {
  const DType t = GetParam();
  for (std::size_t n : kEdgeSizes) {
    for (std::size_t offset : {0u, 1u}) {
      const std::string where = describe(t, n, offset);
      ElementBuffer x(t, n, offset), y(t, n, offset);
      x.set_bytes(random_elements(t, n, 1));
      y.set_bytes(random_elements(t, n, 2));

      ElementBuffer cpu_fill(t, n, offset), gpu_fill(t, n, offset);
      auto d = upload(gpu_fill);
      cpu::fill(t, cpu_fill.data(), n, -3.14159);
      stream->fill(t, d.data(), n, -3.14159);
      download(d, gpu_fill.data());
      expect_same_elements(cpu_fill, gpu_fill, "fill " + where);

      ElementBuffer cpu_sum = x, gpu_sum(t, n, offset);
      auto dx = upload(x), dy = upload(y);
      cpu::reduce_add(t, cpu_sum.data(), y.data(), n);
      stream->reduce_add(t, dx.data(), dy.data(), n);
      download(dx, gpu_sum.data());
      expect_same_elements(cpu_sum, gpu_sum, "reduce_add " + where);

      ElementBuffer cpu_scaled = y, gpu_scaled(t, n, offset);
      cpu::scale(t, cpu_scaled.data(), n, 0.37f);
      stream->scale(t, dy.data(), n, 0.37f);
      download(dy, gpu_scaled.data());
      expect_same_elements(cpu_scaled, gpu_scaled, "scale " + where);

      for (DType to : kAllDTypes) {
        ElementBuffer cpu_cast(to, n, offset), gpu_cast(to, n, offset);
        auto dsrc = upload(x), ddst = upload(gpu_cast);
        cpu::cast(to, cpu_cast.data(), t, x.data(), n);
        stream->cast(to, ddst.data(), t, dsrc.data(), n);
        download(ddst, gpu_cast.data());
        expect_same_elements(cpu_cast, gpu_cast, "cast to " + std::string(dtype_name(to)) + " from " + where);
      }
    }
  }
}

struct Shape {
  int rows, cols;
};
std::size_t elems(Shape s) { return static_cast<std::size_t>(s.rows) * static_cast<std::size_t>(s.cols); }
std::string describe(DType t, Shape s) {
  return std::string(dtype_name(t)) + " " + std::to_string(s.rows) + "x" + std::to_string(s.cols);
}
const std::vector<Shape> kShapes = {{1, 1},    {1, 31}, {1, 33},  {3, 341},  {7, 37},
                                    {17, 241}, {9, 33}, {33, 70}, {1000, 5}, {100, 1023}};

TEST_P(CudaKernels, LayerKernelsMatchCpu) {
  const DType t = GetParam();
  for (Shape s : kShapes) {
    for (Activation act : {Activation::relu, Activation::gelu}) {
      const std::string what = describe(t, s) + (act == Activation::relu ? " relu" : " gelu");
      // relu is exact; gelu goes through tanhf, which may differ by an ulp or two on the device.
      const double ulps = act == Activation::relu ? 0.0 : 2.0, abs_tol = act == Activation::relu ? 0.0 : 1e-6;
      ElementBuffer z_cpu(t, random_values(elems(s), 1, 3.0f)), z_gpu = z_cpu, a_cpu(t, elems(s)), a_gpu(t, elems(s));
      const ElementBuffer bias(t, random_values(static_cast<std::size_t>(s.cols), 2));
      auto dz = upload(z_cpu), db = upload(bias), da = upload(a_gpu);
      cpu::bias_activation(t, act, z_cpu.data(), bias.data(), a_cpu.data(), s.rows, s.cols);
      ops->bias_activation(t, act, dz.data(), db.data(), da.data(), s.rows, s.cols);
      download(dz, z_gpu.data());
      download(da, a_gpu.data());
      expect_same_elements(z_cpu, z_gpu, "z " + what);
      expect_close_elements(a_cpu, a_gpu, ulps, abs_tol, "a " + what);

      ElementBuffer g_cpu(t, random_values(elems(s), 3)), g_gpu = g_cpu;
      auto dg = upload(g_gpu);
      cpu::activation_backward(t, act, g_cpu.data(), z_cpu.data(), elems(s));
      ops->activation_backward(t, act, dg.data(), dz.data(), elems(s));
      download(dg, g_gpu.data());
      expect_close_elements(g_cpu, g_gpu, ulps, abs_tol * 10, "activation backward " + what);
    }
    // The bias gradient adds in the same order on both sides.
    const ElementBuffer dz(t, random_values(elems(s), 4));
    ElementBuffer db_cpu(t, static_cast<std::size_t>(s.cols)), db_gpu(t, static_cast<std::size_t>(s.cols));
    auto ddz = upload(dz), ddb = upload(db_gpu);
    cpu::bias_grad(t, dz.data(), db_cpu.data(), s.rows, s.cols);
    ops->bias_grad(t, ddz.data(), ddb.data(), s.rows, s.cols);
    download(ddb, db_gpu.data());
    expect_same_elements(db_cpu, db_gpu, "bias grad " + describe(t, s));
  }
}

TEST_P(CudaKernels, SoftmaxCrossEntropyMatchesCpu) {
  const DType t = GetParam();
  for (int classes : {1, 10, 31, 33, 128, 129, 1000}) {
    const int rows = 3;
    const float scale = 0.25f;
    const Shape s{rows, classes};
    const ElementBuffer logits(t, random_values(elems(s), 8, 4.0f));
    const std::vector<std::int32_t> labels = {0, classes / 2, classes - 1};
    ElementBuffer d_cpu(t, elems(s)), d_gpu(t, elems(s));
    std::vector<float> loss_cpu(rows), loss_gpu(rows);
    auto dl = upload(logits), dlab = upload(labels), dd = upload(d_gpu), dloss = upload(loss_gpu);
    cpu::softmax_xent(t, logits.data(), labels.data(), rows, classes, scale, d_cpu.data(), loss_cpu.data());
    ops->softmax_xent(t, dl.data(), static_cast<const std::int32_t*>(dlab.data()), rows, classes, scale, dd.data(),
                      static_cast<float*>(dloss.data()));
    download(dd, d_gpu.data());
    download(dloss, loss_gpu.data());
    expect_close_elements(d_cpu, d_gpu, 1.0, 1e-5 * scale, "dlogits " + describe(t, s));
    for (std::size_t r = 0; r < loss_cpu.size(); ++r) {
      EXPECT_NEAR(loss_gpu[r], loss_cpu[r], 1e-5 * (1.0 + std::abs(loss_cpu[r])))
          << "loss row " << r << " " << describe(t, s);
    }
  }
}

TEST_P(CudaKernels, NonfiniteCheckAndOptimizerMatchCpu) {
  const DType t = GetParam();
  for (std::size_t n : {std::size_t{1}, std::size_t{31}, std::size_t{33}, std::size_t{1023}, std::size_t{4097}}) {
    for (float bad : {0.0f, std::numeric_limits<float>::infinity(), std::numeric_limits<float>::quiet_NaN()}) {
      ElementBuffer data(t, random_values(n, 10, 100.0f));
      if (bad != 0.0f) data.set(n - 1, bad);  // NaN too: it compares unequal to everything
      float flag_cpu = 0.0f, flag_gpu = 0.0f;
      auto dd = upload(data), dflag = upload(&flag_gpu, sizeof flag_gpu);
      cpu::check_nonfinite(t, data.data(), n, &flag_cpu);
      ops->check_nonfinite(t, dd.data(), n, static_cast<float*>(dflag.data()));
      download(dflag, &flag_gpu);
      EXPECT_EQ(flag_gpu, flag_cpu) << describe(t, n, 0) << " value " << bad;
    }
    for (OptimizerKind kind : {OptimizerKind::sgd, OptimizerKind::adamw}) {
      OptimizerHyper h;
      h.kind = kind;
      h.lr = 0.01f;
      h.momentum = 0.9f;
      h.weight_decay = 0.01f;
      h.bias_correction1 = 1.0f - h.beta1 * h.beta1 * h.beta1;
      h.bias_correction2_sqrt = std::sqrt(1.0f - h.beta2 * h.beta2 * h.beta2);
      h.inv_loss_scale = 1.0f / 1024.0f;
      std::vector<float> master = random_values(n, 11), s1 = random_values(n, 12, 0.1f),
                         s2 = random_values(n, 13, 0.01f);
      for (float& v : s2) v = std::abs(v);
      const ElementBuffer grads(t, random_values(n, 14, 50.0f));
      ElementBuffer w_cpu(t, n), w_gpu(t, n);
      auto dm = upload(master), ds1 = upload(s1), ds2 = upload(s2), dg = upload(grads), dw = upload(w_gpu);
      OptimizerArgs a;
      a.type = t;
      a.count = n;
      a.master = master.data();
      a.weights = t == DType::f32 ? nullptr : w_cpu.data();
      a.grads = grads.data();
      a.state1 = s1.data();
      a.state2 = s2.data();
      a.hyper = h;
      OptimizerArgs g = a;
      g.master = static_cast<float*>(dm.data());
      g.weights = t == DType::f32 ? nullptr : dw.data();
      g.grads = dg.data();
      g.state1 = static_cast<float*>(ds1.data());
      g.state2 = static_cast<float*>(ds2.data());
      cpu::optimizer_step(a);
      ops->optimizer_step(g);
      std::vector<float> m_gpu(n), s1_gpu(n), s2_gpu(n);
      download(dm, m_gpu.data());
      download(ds1, s1_gpu.data());
      download(ds2, s2_gpu.data());
      download(dw, w_gpu.data());
      const std::string what = describe(t, n, 0) + (kind == OptimizerKind::sgd ? " sgd" : " adamw");
      EXPECT_EQ(m_gpu, master) << what;
      EXPECT_EQ(s1_gpu, s1) << what;
      EXPECT_EQ(s2_gpu, s2) << what;
      if (t != DType::f32) expect_same_elements(w_cpu, w_gpu, "weights " + what);
    }
  }
}

// The stream-blocking kernel: holds on several streams (of every device) left to time out together
// are all counted, which needs the count's atomic add (kernels/stream_block_body.h).
TEST(CudaStreamBlock, EveryTimedOutHoldIsCounted) {
  DPB_REQUIRE_GPU();
  auto be = make_backend(BackendKind::cuda);
  std::vector<std::unique_ptr<Stream>> streams;
  for (int i = 0; i < 8; ++i) streams.push_back(be->make_stream(i % be->device_count()));
  auto gate = be->make_stream_gate(std::chrono::milliseconds(200));
  for (auto& s : streams) gate->hold(*s);
  for (auto& s : streams) s->synchronize();  // never released: each kernel gives up after 200 ms
  EXPECT_EQ(gate->timeouts(), streams.size());
}

INSTANTIATE_TEST_SUITE_P(AllTypes, CudaKernels, ::testing::ValuesIn(kAllDTypes),
                         [](const auto& param_info) { return std::string(dtype_name(param_info.param)); });

}  // namespace
}  // namespace dpb
