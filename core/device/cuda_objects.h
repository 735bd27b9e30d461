// The cuda backend's backend-specific objects (Backend::make_model_ops, make_stream_gate,
// peer_link), each in its own CUDA-only file. Host header without CUDA includes; defined only in
// CUDA builds (core/CMakeLists.txt lists those files).
#pragma once
#include <chrono>
#include <memory>

#include "device/backend.h"
#include "device/model_ops.h"
#include "device/stream_gate.h"

namespace dpb {

// cuBLAS GEMMs (cublasGemmEx: fp16/bf16 or fp32 operands, fp32 accumulation via
// CUBLAS_COMPUTE_32F, output rounded once) on the rank's compute stream, and the kernels of
// kernels/train_*.cu; one cuBLAS handle per rank, bound to that stream (cuda_model_ops.cpp).
// `stream` must be a cuda-backend stream; throws std::invalid_argument otherwise.
std::unique_ptr<ModelOps> make_cuda_model_ops(Stream& stream);

// The spin kernel of kernels/stream_block.cu on host-mapped pinned flags (cuda_stream_gate.cpp).
std::unique_ptr<StreamGate> make_cuda_stream_gate(std::chrono::milliseconds timeout);

// cudaDeviceCanAccessPeer and cudaDeviceGetP2PAttribute for two distinct CUDA devices; the link
// stays empty (NVML knows it). cuda_peers.cpp.
PeerLink cuda_peer_link(int src, int dst);

}  // namespace dpb
