#include "emulated_kernels.h"

#include "cuda_emulation.h"
#include "device/dtype_dispatch.h"
#include "elementwise_body.h"
#include "stream_block_body.h"
#include "train_layers_body.h"
#include "train_optimizer_body.h"

namespace dpb::emulated {

using emu::Thread;
namespace k = kernels;

void fill(DType type, void* dst, std::size_t count, double value) {
  if (count == 0) return;
  dispatch_dtype(type, [&](auto tag) {
    using T = decltype(tag);
    const T v = from_float<T>(static_cast<float>(value));
    const bool vec = k::is_aligned(dst, 16);
    emu::launch(k::elementwise_grid(count, vec ? k::kVecWidth<T> : 1, kSmCount), k::kElementBlock,
                [&](const Thread& t) { k::fill_body<T>(t, static_cast<T*>(dst), count, v, vec); });
  });
}

void reduce_add(DType type, void* dst, const void* src, std::size_t count) {
  if (count == 0) return;
  dispatch_dtype(type, [&](auto tag) {
    using T = decltype(tag);
    const bool vec = k::is_aligned(dst, 16) && k::is_aligned(src, 16);
    emu::launch(k::elementwise_grid(count, vec ? k::kVecWidth<T> : 1, kSmCount), k::kElementBlock,
                [&](const Thread& t) {
                  k::reduce_add_body<T>(t, static_cast<T*>(dst), static_cast<const T*>(src), count, vec);
                });
  });
}

void scale(DType type, void* data, std::size_t count, float factor) {
  if (count == 0) return;
  dispatch_dtype(type, [&](auto tag) {
    using T = decltype(tag);
    const bool vec = k::is_aligned(data, 16);
    emu::launch(k::elementwise_grid(count, vec ? k::kVecWidth<T> : 1, kSmCount), k::kElementBlock,
                [&](const Thread& t) { k::scale_body<T>(t, static_cast<T*>(data), count, factor, vec); });
  });
}

void cast(DType dst_type, void* dst, DType src_type, const void* src, std::size_t count) {
  if (count == 0) return;
  dispatch_dtype(dst_type, [&](auto dst_tag) {
    using To = decltype(dst_tag);
    dispatch_dtype(src_type, [&](auto src_tag) {
      using From = decltype(src_tag);
      const bool vec =
          k::is_aligned(dst, sizeof(To) * k::kCastVecWidth) && k::is_aligned(src, sizeof(From) * k::kCastVecWidth);
      emu::launch(k::elementwise_grid(count, vec ? k::kCastVecWidth : 1, kSmCount), k::kElementBlock,
                  [&](const Thread& t) {
                    k::cast_body<To, From>(t, static_cast<To*>(dst), static_cast<const From*>(src), count, vec);
                  });
    });
  });
}

void bias_activation(DType type, Activation act, void* z, const void* bias, void* a, int rows, int cols) {
  const auto r = static_cast<std::size_t>(rows), c = static_cast<std::size_t>(cols);
  if (r * c == 0) return;
  dispatch_dtype(type, [&](auto tag) {
    using T = decltype(tag);
    emu::launch(k::train_grid(r * c), k::kTrainBlock, [&](const Thread& t) {
      k::bias_activation_body<T>(t, static_cast<T*>(z), static_cast<const T*>(bias), static_cast<T*>(a), r, c, act);
    });
  });
}

void activation_backward(DType type, Activation act, void* grad, const void* z, std::size_t count) {
  if (count == 0) return;
  dispatch_dtype(type, [&](auto tag) {
    using T = decltype(tag);
    emu::launch(k::train_grid(count), k::kTrainBlock, [&](const Thread& t) {
      k::activation_backward_body<T>(t, static_cast<T*>(grad), static_cast<const T*>(z), count, act);
    });
  });
}

void bias_grad(DType type, const void* dz, void* db, int rows, int cols) {
  if (cols <= 0 || rows < 0) return;
  const auto c = static_cast<std::size_t>(cols);
  dispatch_dtype(type, [&](auto tag) {
    using T = decltype(tag);
    emu::launch(k::bias_grad_grid(c), k::kBiasGradBlock, [&](const Thread& t) {
      k::bias_grad_body<T>(t, static_cast<const T*>(dz), static_cast<T*>(db), static_cast<std::size_t>(rows), c,
                           t.shared<k::BiasGradShared>());
    });
  });
}

void softmax_xent(DType type, const void* logits, const std::int32_t* labels, int rows, int classes, float grad_scale,
                  void* dlogits, float* row_loss) {
  if (rows <= 0) return;
  dispatch_dtype(type, [&](auto tag) {
    using T = decltype(tag);
    emu::launch(static_cast<unsigned>(rows), k::kSoftmaxBlock, [&](const Thread& t) {
      k::softmax_xent_body<T>(t, static_cast<const T*>(logits), labels, classes, grad_scale, static_cast<T*>(dlogits),
                              row_loss, t.shared<k::BlockReduceShared>());
    });
  });
}

void check_nonfinite(DType type, const void* data, std::size_t count, float* flag) {
  if (count == 0) return;
  dispatch_dtype(type, [&](auto tag) {
    using T = decltype(tag);
    emu::launch(k::train_grid(count), k::kTrainBlock,
                [&](const Thread& t) { k::check_nonfinite_body<T>(t, static_cast<const T*>(data), count, flag); });
  });
}

void optimizer_step(const OptimizerArgs& args) {
  if (args.count == 0) return;
  dispatch_dtype(args.type, [&](auto tag) {
    using T = decltype(tag);
    emu::launch(k::train_grid(args.count), k::kTrainBlock, [&](const Thread& t) {
      k::optimizer_body<T>(t, args.master, static_cast<T*>(args.weights), static_cast<const T*>(args.grads),
                           args.state1, args.state2, args.count, args.skip_flag, args.hyper);
    });
  });
}

void stream_block(cuda_kernels::StreamBlockFlags* flags, std::uint32_t generation, std::uint64_t timeout_ns,
                  unsigned kernels) {
  emu::launch(1, kernels, [&](const Thread& t) { k::stream_block_body(t, flags, generation, timeout_ns); });
}

}  // namespace dpb::emulated
