// The cpu backend's stream/event semantics: in-order streams, cross-stream waits, timing, errors.
#include <gtest/gtest.h>

#include <numeric>
#include <vector>

#include "device/cpu_backend.h"
#include "device/error.h"
#include "float16.h"

namespace dpb {
namespace {

TEST(CpuBackend, CopiesAndReducesInStreamOrder) {
  CpuBackend be;
  auto s = be.make_stream(0);
  const std::size_t n = 1000;
  auto a = be.allocate(0, n * 4);
  auto b = be.allocate(1, n * 4);
  std::vector<float> host(n);
  std::iota(host.begin(), host.end(), 0.0f);
  s->copy_from_host(a.data(), host.data(), n * 4);
  s->copy_peer(b.data(), 1, a.data(), 0, n * 4);
  s->reduce_add(DType::f32, a.data(), b.data(), n);
  s->scale(DType::f32, a.data(), n, 0.25f);
  std::vector<float> out(n);
  s->copy_to_host(out.data(), a.data(), n * 4);
  s->synchronize();
  for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(out[i], static_cast<float>(i) * 0.5f);
}

TEST(CpuBackend, WaitBlocksTheStreamNotTheCaller) {
  CpuBackend be;
  auto producer = be.make_stream(0);
  auto consumer = be.make_stream(1);
  auto ready = be.make_event(0);
  auto gate = be.make_event(0);
  auto buf = be.allocate(0, 4);
  float value = 0;
  // Hold the producer until the gate is recorded; the consumer waits on the producer's event.
  auto holder = be.make_stream(0);
  holder->wait(*gate);  // never recorded yet: no-op
  auto* cpu_producer = dynamic_cast<CpuStream*>(producer.get());
  std::atomic<bool> release{false};
  cpu_producer->enqueue([&] {
    while (!release.load()) std::this_thread::yield();
  });
  producer->fill(DType::f32, buf.data(), 1, 42.0);
  producer->record(*ready);
  consumer->wait(*ready);
  consumer->copy_to_host(&value, buf.data(), 4);
  EXPECT_FALSE(consumer->query());  // caller was not blocked by the wait
  release = true;
  consumer->synchronize();
  EXPECT_EQ(value, 42.0f);
}

TEST(CpuBackend, EventTimingIsNonNegative) {
  CpuBackend be;
  auto s = be.make_stream(0);
  auto t0 = be.make_event(0);
  auto t1 = be.make_event(0);
  auto buf = be.allocate(0, 1 << 20);
  s->record(*t0);
  s->fill(DType::f32, buf.data(), (1 << 20) / 4, 1.0);
  s->record(*t1);
  t1->synchronize();
  EXPECT_GE(t1->elapsed_ms_since(*t0), 0.0);
}

TEST(CpuBackend, TaskErrorSurfacesAtSynchronizeAndEventsStillComplete) {
  CpuBackend be;
  auto s = be.make_stream(0);
  auto e = be.make_event(0);
  dynamic_cast<CpuStream&>(*s).enqueue([] { throw std::runtime_error("kernel failed"); });
  s->record(*e);
  e->synchronize();
  EXPECT_THROW(s->synchronize(), std::runtime_error);
}

TEST(CpuBackend, AbortUnblocksWaits) {
  CpuBackend be;
  auto s = be.make_stream(0);
  auto other = be.make_stream(1);
  auto e = be.make_event(1);
  auto* o = dynamic_cast<CpuStream*>(other.get());
  std::atomic<bool> release{false};
  o->enqueue([&] {
    while (!release.load()) std::this_thread::yield();
  });
  other->record(*e);
  s->wait(*e);
  be.abort();
  EXPECT_THROW(s->synchronize(), DeviceError);
  release = true;
}

TEST(CpuBackend, RejectsBadDevicesAndOversizedAllocations) {
  CpuBackend be(CpuBackendOptions{2, 1024});
  EXPECT_THROW(be.make_stream(2), std::invalid_argument);
  EXPECT_THROW(be.allocate(-1, 4), std::invalid_argument);
  EXPECT_THROW(be.allocate(0, 2048), DeviceError);
  auto ok = be.allocate(0, 1024);
  EXPECT_THROW(be.allocate(0, 1), DeviceError);
}

}  // namespace
}  // namespace dpb
