// Turns a run-time DType into a compile-time element type: dispatch_dtype(t, [&](auto tag) {...})
// calls the lambda with a value of float, f16 or bf16. Used by every loop over typed elements, on
// the host (cpu backend) and on the host side of the CUDA kernel launchers.
#pragma once
#include "device/dtype.h"
#include "float16.h"

namespace dpb {

template <class F>
void dispatch_dtype(DType type, F&& f) {
  switch (type) {
    case DType::f32: f(float{}); return;
    case DType::f16: f(f16{}); return;
    case DType::bf16: f(bf16{}); return;
  }
}

}  // namespace dpb
