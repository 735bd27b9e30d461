// The cuda backend: the cpu backend's primitive checks on CUDA streams/events, plus cross-backend
// agreement: the CUDA element kernels produce the cpu backend's bits for every dtype (both run the
// functions of kernels/reduce_math.h). All tests are gpu-labelled and skip without a visible GPU.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "gpu_test_support.h"
#include "kernel_test_support.h"
#include "device/backend.h"
#include "device/cpu_backend.h"
#include "device/error.h"
#include "float16.h"
#include "device/stream_gate.h"

namespace dpb {
namespace {

std::unique_ptr<Backend> cuda() { return make_backend(BackendKind::cuda); }

// The second device when there is one, else the first again (peer copies on one device are local).
int other_device(const Backend& be) { return be.device_count() > 1 ? 1 : 0; }

TEST(CudaBackend, CopiesAndReducesInStreamOrder) {
  DPB_REQUIRE_GPU();
  auto be = cuda();
  const int peer = other_device(*be);
  auto s = be->make_stream(0);
  const std::size_t n = 1000;
  auto a = be->allocate(0, n * 4);
  auto b = be->allocate(peer, n * 4);
  std::vector<float> host(n);
  for (std::size_t i = 0; i < n; ++i) host[i] = static_cast<float>(i);
  s->copy_from_host(a.data(), host.data(), n * 4);
  s->copy_peer(b.data(), peer, a.data(), 0, n * 4);
  auto c = be->allocate(0, n * 4);
  s->copy_peer(c.data(), 0, b.data(), peer, n * 4);
  s->reduce_add(DType::f32, a.data(), c.data(), n);
  s->scale(DType::f32, a.data(), n, 0.25f);
  std::vector<float> out(n);
  s->copy_to_host(out.data(), a.data(), n * 4);
  s->synchronize();
  for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(out[i], static_cast<float>(i) * 0.5f) << "element " << i;
}

TEST(CudaBackend, WaitBlocksTheStreamNotTheCaller) {
  DPB_REQUIRE_GPU();
  auto be = cuda();
  const int peer = other_device(*be);
  auto producer = be->make_stream(0);
  auto consumer = be->make_stream(peer);
  auto ready = be->make_event(0, false);
  auto never = be->make_event(peer, false);
  auto buf = be->allocate(0, 4);
  float value = 0;
  consumer->wait(*never);  // never recorded: complete, as in the cpu backend
  auto gate = be->make_stream_gate();
  gate->hold(*producer);
  producer->fill(DType::f32, buf.data(), 1, 42.0);
  producer->record(*ready);
  consumer->wait(*ready);
  auto host_copy = be->allocate(peer, 4);
  consumer->copy_peer(host_copy.data(), peer, buf.data(), 0, 4);
  EXPECT_FALSE(consumer->query());  // the caller was not blocked by the wait
  EXPECT_FALSE(ready->query());
  gate->release();
  consumer->copy_to_host(&value, host_copy.data(), 4);
  consumer->synchronize();
  EXPECT_EQ(value, 42.0f);
  EXPECT_TRUE(ready->query());
  EXPECT_EQ(gate->timeouts(), 0u);
}

TEST(CudaBackend, EventTimingIsPositiveAndNeedsTimingEvents) {
  DPB_REQUIRE_GPU();
  auto be = cuda();
  auto s = be->make_stream(0);
  auto t0 = be->make_event(0);
  auto t1 = be->make_event(0);
  auto untimed = be->make_event(0, false);
  const std::size_t n = std::size_t{1} << 24;
  auto buf = be->allocate(0, n * 4);
  s->record(*t0);
  s->fill(DType::f32, buf.data(), n, 1.0);
  s->record(*t1);
  s->record(*untimed);
  t1->synchronize();
  EXPECT_GT(t1->elapsed_ms_since(*t0), 0.0);
  EXPECT_THROW((void)untimed->elapsed_ms_since(*t0), std::invalid_argument);
}

TEST(CudaBackend, StreamGateTimesOutInsteadOfHanging) {
  DPB_REQUIRE_GPU();
  auto be = cuda();
  auto s = be->make_stream(0);
  auto gate = be->make_stream_gate(std::chrono::milliseconds(50));
  gate->hold(*s);
  s->synchronize();  // never released: the kernel gives up after 50 ms
  EXPECT_EQ(gate->timeouts(), 1u);
}

TEST(CudaBackend, ErrorsCarryTheCallAndBadDevicesAreNamed) {
  DPB_REQUIRE_GPU();
  auto be = cuda();
  EXPECT_THROW(be->make_stream(be->device_count()), std::invalid_argument);
  EXPECT_THROW(be->allocate(-1, 4), std::invalid_argument);
  try {
    auto huge = be->allocate(0, std::size_t{1} << 50);
    FAIL() << "a 1 PiB allocation succeeded";
  } catch (const DeviceError& e) {
    EXPECT_NE(std::string(e.what()).find("cudaMalloc"), std::string::npos) << e.what();
  }
  auto ok = be->allocate(0, 64);  // the failed allocation left no sticky error behind
  EXPECT_TRUE(ok);
  if (be->device_count() > 1) {
    auto other = be->make_event(1);
    auto s = be->make_stream(0);
    EXPECT_THROW(s->record(*other), std::invalid_argument);  // named, not "invalid resource handle"
  }
}

TEST(CudaBackend, PeerAccessIsIdempotent) {
  DPB_REQUIRE_GPU();
  auto be = cuda();
  EXPECT_TRUE(be->can_access_peer(0, 0));
  be->enable_peer_access(0, 0);
  be->disable_peer_access(0, 0);
  if (be->device_count() > 1 && be->can_access_peer(0, 1)) {
    be->enable_peer_access(0, 1);
    be->enable_peer_access(0, 1);
    be->disable_peer_access(0, 1);
    be->disable_peer_access(0, 1);
    be->enable_peer_access(0, 1);
    be->disable_peer_access(0, 1);
  }
  EXPECT_THROW((void)be->can_access_peer(0, be->device_count()), std::invalid_argument);
}

TEST(CudaBackend, PropertiesAreReadFromTheDevice) {
  DPB_REQUIRE_GPU();
  auto be = cuda();
  const auto p = be->properties(0);
  EXPECT_FALSE(p.simulated);
  EXPECT_FALSE(p.name.empty());
  EXPECT_GT(p.memory_bytes, 0u);
  ASSERT_TRUE(p.uuid);
  EXPECT_EQ(p.uuid->rfind("GPU-", 0), 0u) << *p.uuid;
  EXPECT_EQ(p.uuid->size(), 40u) << *p.uuid;
  ASSERT_TRUE(p.pci_bus_id);
  ASSERT_TRUE(p.sm_count);
  EXPECT_GT(*p.sm_count, 0);
  ASSERT_TRUE(p.compute_capability);
  EXPECT_NE(p.compute_capability->find('.'), std::string::npos);
}

// ---- cross-backend agreement -------------------------------------------------------------------

using kernel_test::random_elements;  // random bit patterns with the special values (kernel_test_support.h)

bool is_nan(DType type, const std::uint8_t* p) {
  if (type == DType::f32) {
    float f;
    std::memcpy(&f, p, 4);
    return std::isnan(f);
  }
  std::uint16_t b;
  std::memcpy(&b, p, 2);
  return type == DType::f16 ? (b & 0x7c00u) == 0x7c00u && (b & 0x3ffu) != 0
                            : (b & 0x7f80u) == 0x7f80u && (b & 0x7fu) != 0;
}

// Bit-for-bit, except that two NaNs agree whatever their payloads: x86 and the GPU propagate NaN
// payloads differently inside the fp32 adder, and a NaN is a NaN to every consumer here.
void expect_same_elements(DType type, const std::vector<std::uint8_t>& cpu, const std::vector<std::uint8_t>& gpu,
                          const std::string& what) {
  ASSERT_EQ(cpu.size(), gpu.size());
  const std::size_t size = dtype_size(type);
  std::size_t wrong = 0;
  std::size_t first = 0;
  for (std::size_t i = 0; i < cpu.size() / size; ++i) {
    const auto* c = &cpu[i * size];
    const auto* g = &gpu[i * size];
    if (std::memcmp(c, g, size) == 0 || (is_nan(type, c) && is_nan(type, g))) continue;
    if (wrong++ == 0) first = i;
  }
  EXPECT_EQ(wrong, 0u) << what << " (" << dtype_name(type) << "): " << wrong << " elements differ, first at " << first;
}

class CudaAgreesWithCpu : public ::testing::TestWithParam<DType> {};

// Runs `op` on both backends with the same inputs (as bytes, with `offset` elements of leading
// padding so unaligned pointers take the scalar path) and returns both outputs.
struct Twin {
  DType out_type;
  std::vector<std::uint8_t> cpu, gpu;
};

template <class Op>
Twin run_twin(DType in_type, DType out_type, std::size_t count, std::size_t offset, const std::vector<std::uint8_t>& x,
              const std::vector<std::uint8_t>& y, Op op) {
  Twin result{out_type, {}, {}};
  CpuBackend cpu_be(CpuBackendOptions{1, std::size_t{1} << 30});
  auto gpu_be = cuda();
  for (Backend* be : {static_cast<Backend*>(&cpu_be), gpu_be.get()}) {
    auto s = be->make_stream(0);
    const std::size_t in_size = dtype_size(in_type), out_size = dtype_size(out_type);
    auto bx = be->allocate(0, (count + offset) * in_size);
    auto by = be->allocate(0, (count + offset) * in_size);
    auto bo = be->allocate(0, (count + offset) * out_size);
    auto* px = static_cast<std::uint8_t*>(bx.data()) + offset * in_size;
    auto* py = static_cast<std::uint8_t*>(by.data()) + offset * in_size;
    auto* po = static_cast<std::uint8_t*>(bo.data()) + offset * out_size;
    s->copy_from_host(px, x.data(), count * in_size);
    s->copy_from_host(py, y.data(), count * in_size);
    if (in_type == out_type) s->copy(po, px, count * in_size);
    op(*s, px, py, po);
    std::vector<std::uint8_t> out(count * out_size);
    s->copy_to_host(out.data(), po, out.size());
    s->synchronize();
    (be->kind() == BackendKind::cpu ? result.cpu : result.gpu) = std::move(out);
  }
  return result;
}

TEST_P(CudaAgreesWithCpu, FillReduceScaleCastBitForBit) {
  DPB_REQUIRE_GPU();
  const DType type = GetParam();
  // Odd count: vector body plus a scalar tail; offset 0 is the aligned path, 1 the unaligned one.
  const std::size_t count = 100003;
  for (std::size_t offset : {std::size_t{0}, std::size_t{1}}) {
    const std::string where = offset ? " unaligned" : " aligned";
    const auto x = random_elements(type, count, 1u);
    const auto y = random_elements(type, count, 2u);
    for (double v : {0.0, 1.0, -3.14159, 1e-7, 70000.0, -1e30}) {
      auto t = run_twin(type, type, count, offset, x, y, [&](Stream& s, void*, void*, void* o) {
        s.fill(type, o, count, v);
      });
      expect_same_elements(type, t.cpu, t.gpu, "fill " + std::to_string(v) + where);
    }
    auto sum = run_twin(type, type, count, offset, x, y, [&](Stream& s, void*, void* py, void* o) {
      s.reduce_add(type, o, py, count);
    });
    expect_same_elements(type, sum.cpu, sum.gpu, "reduce_add" + where);
    for (float f : {0.125f, 0.37f, -3.0f, 1e30f}) {
      auto sc = run_twin(type, type, count, offset, x, y, [&](Stream& s, void*, void*, void* o) {
        s.scale(type, o, count, f);
      });
      expect_same_elements(type, sc.cpu, sc.gpu, "scale " + std::to_string(f) + where);
    }
    for (DType to : kAllDTypes) {
      auto c = run_twin(type, to, count, offset, x, y, [&](Stream& s, void* px, void*, void* o) {
        s.cast(to, o, type, px, count);
      });
      expect_same_elements(to, c.cpu, c.gpu, std::string("cast from ") + std::string(dtype_name(type)) + where);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllTypes, CudaAgreesWithCpu, ::testing::ValuesIn(kAllDTypes),
                         [](const auto& param_info) { return std::string(dtype_name(param_info.param)); });

}  // namespace
}  // namespace dpb
