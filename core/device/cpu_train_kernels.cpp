#include "device/cpu_train_kernels.h"
#include "device/dtype_dispatch.h"

#include <cblas.h>

#include <algorithm>
#include <mutex>
#include <stdexcept>
#include <string>

namespace dpb::cpu {
namespace {

template <class T>
const float* widen(const void* src, std::size_t count, std::vector<float>& dst) {
  if constexpr (std::is_same_v<T, float>) {
    (void)count;
    (void)dst;
    return static_cast<const float*>(src);
  } else {
    dst.resize(count);
    const T* s = static_cast<const T*>(src);
    for (std::size_t i = 0; i < count; ++i) dst[i] = to_float(s[i]);
    return dst.data();
  }
}

std::size_t stored_elems(int rows, int ld) { return static_cast<std::size_t>(rows) * static_cast<std::size_t>(ld); }

}  // namespace

void use_single_threaded_blas() {
  static std::once_flag once;
  std::call_once(once, [] { openblas_set_num_threads(1); });
}

void gemm(DType type, const GemmShape& s, const void* a, const void* b, void* c, GemmScratch& scratch) {
  if (s.m <= 0 || s.n <= 0 || s.k <= 0) throw std::invalid_argument("cpu gemm: empty shape");
  use_single_threaded_blas();
  // Rows as stored: A is [M,K] or, transposed, [K,M]; B is [K,N] or [N,K].
  const int a_rows = s.trans_a ? s.k : s.m;
  const int b_rows = s.trans_b ? s.n : s.k;
  dispatch_dtype(type, [&](auto tag) {
    using T = decltype(tag);
    const float* a32 = widen<T>(a, stored_elems(a_rows, s.lda), scratch.a);
    const float* b32 = widen<T>(b, stored_elems(b_rows, s.ldb), scratch.b);
    float* c32;
    if constexpr (std::is_same_v<T, float>) {
      c32 = static_cast<float*>(c);
    } else {
      scratch.c.resize(stored_elems(s.m, s.ldc));
      c32 = scratch.c.data();
    }
    cblas_sgemm(CblasRowMajor, s.trans_a ? CblasTrans : CblasNoTrans, s.trans_b ? CblasTrans : CblasNoTrans, s.m, s.n,
                s.k, 1.0f, a32, s.lda, b32, s.ldb, 0.0f, c32, s.ldc);
    if constexpr (!std::is_same_v<T, float>) {
      T* out = static_cast<T*>(c);
      for (int i = 0; i < s.m; ++i) {
        const std::size_t row = static_cast<std::size_t>(i) * static_cast<std::size_t>(s.ldc);
        for (int j = 0; j < s.n; ++j) out[row + static_cast<std::size_t>(j)] = from_float<T>(c32[row + static_cast<std::size_t>(j)]);
      }
    }
  });
}

void bias_activation(DType type, Activation act, void* z, const void* bias, void* a, int rows, int cols) {
  dispatch_dtype(type, [&](auto tag) {
    using T = decltype(tag);
    T* zt = static_cast<T*>(z);
    const T* bt = static_cast<const T*>(bias);
    T* at = static_cast<T*>(a);
    const auto w = static_cast<std::size_t>(cols);
    for (std::size_t r = 0; r < static_cast<std::size_t>(rows); ++r) {
      for (std::size_t j = 0; j < w; ++j) bias_activation_elem<T>(zt[r * w + j], bt[j], at ? &at[r * w + j] : nullptr, act);
    }
  });
}

void activation_backward(DType type, Activation act, void* grad, const void* z, std::size_t count) {
  dispatch_dtype(type, [&](auto tag) {
    using T = decltype(tag);
    T* g = static_cast<T*>(grad);
    const T* zt = static_cast<const T*>(z);
    for (std::size_t i = 0; i < count; ++i) g[i] = activation_backward_elem<T>(g[i], zt[i], act);
  });
}

void bias_grad(DType type, const void* dz, void* db, int rows, int cols) {
  dispatch_dtype(type, [&](auto tag) {
    using T = decltype(tag);
    const T* d = static_cast<const T*>(dz);
    T* out = static_cast<T*>(db);
    const auto w = static_cast<std::size_t>(cols);
    // The shared summation order (train_math.h), which the CUDA kernel runs in parallel, so both
    // backends give the same bits.
    for (std::size_t j = 0; j < w; ++j) {
      out[j] = from_float<T>(bias_grad_column(d, static_cast<std::size_t>(rows), w, j));
    }
  });
}

void softmax_xent(DType type, const void* logits, const std::int32_t* labels, int rows, int classes, float grad_scale,
                  void* dlogits, float* row_loss) {
  dispatch_dtype(type, [&](auto tag) {
    using T = decltype(tag);
    const T* z = static_cast<const T*>(logits);
    T* dz = static_cast<T*>(dlogits);
    const auto w = static_cast<std::size_t>(classes);
    for (std::size_t r = 0; r < static_cast<std::size_t>(rows); ++r) {
      const T* zr = z + r * w;
      const int label = labels[r];
      if (label < 0 || label >= classes) {
        throw std::out_of_range("softmax_xent: label " + std::to_string(label) + " out of range");
      }
      float m = to_float(zr[0]);
      for (std::size_t j = 1; j < w; ++j) m = std::max(m, to_float(zr[j]));
      float sum = 0.0f;
      for (std::size_t j = 0; j < w; ++j) sum += xent_exp(to_float(zr[j]), m);
      const float inv = 1.0f / sum;
      for (std::size_t j = 0; j < w; ++j) {
        dz[r * w + j] = from_float<T>(xent_grad(to_float(zr[j]), m, inv, static_cast<int>(j) == label, grad_scale));
      }
      row_loss[r] = xent_loss(to_float(zr[static_cast<std::size_t>(label)]), m, sum);
    }
  });
}

void check_nonfinite(DType type, const void* data, std::size_t count, float* flag) {
  dispatch_dtype(type, [&](auto tag) {
    using T = decltype(tag);
    const T* d = static_cast<const T*>(data);
    for (std::size_t i = 0; i < count; ++i) {
      if (is_nonfinite(to_float(d[i]))) {
        *flag = 1.0f;
        return;
      }
    }
  });
}

void optimizer_step(const OptimizerArgs& args) {
  if (args.skip_flag && *args.skip_flag != 0.0f) return;
  dispatch_dtype(args.type, [&](auto tag) {
    using T = decltype(tag);
    T* w = static_cast<T*>(args.weights);
    const T* g = static_cast<const T*>(args.grads);
    for (std::size_t i = 0; i < args.count; ++i) optimizer_elem<T>(i, args.master, w, g, args.state1, args.state2, args.hyper);
  });
}

}  // namespace dpb::cpu
