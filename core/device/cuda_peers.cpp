// What links two CUDA devices: cudaDeviceCanAccessPeer and cudaDeviceGetP2PAttribute.
#include <cuda_runtime_api.h>

#include "device/cuda_objects.h"

namespace dpb {
namespace {

std::optional<int> p2p_attribute(cudaDeviceP2PAttr attr, int src, int dst) {
  int value = 0;
  // cudaErrorInvalidDevice for a device paired with itself (FACTS.md): callers pass distinct ones.
  if (cudaDeviceGetP2PAttribute(&value, attr, src, dst) != cudaSuccess) {
    (void)cudaGetLastError();
    return std::nullopt;
  }
  return value;
}

}  // namespace

PeerLink cuda_peer_link(int src, int dst) {
  PeerLink a;
  int can = 0;
  if (cudaDeviceCanAccessPeer(&can, src, dst) == cudaSuccess) {
    a.access_supported = can != 0;
  } else {
    (void)cudaGetLastError();  // unreadable: reported as not supported
  }
  a.performance_rank = p2p_attribute(cudaDevP2PAttrPerformanceRank, src, dst);
  if (auto atomics = p2p_attribute(cudaDevP2PAttrNativeAtomicSupported, src, dst)) a.native_atomics = *atomics != 0;
  return a;
}

}  // namespace dpb
