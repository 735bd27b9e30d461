// Timeline: named event pairs per rank on the cpu backend, measured against per-rank origins.
#include <gtest/gtest.h>

#include <vector>

#include "device/cpu_backend.h"
#include "measure/timeline.h"

namespace dpb {
namespace {

TEST(Timeline, SpansAreOrderedAndNested) {
  CpuBackend be;
  auto s0 = be.make_stream(0);
  auto s1 = be.make_stream(1);
  std::vector<Stream*> streams = {s0.get(), s1.get()};
  Timeline tl(be, {0, 1});
  const std::size_t n = 1 << 20;
  auto buf0 = be.allocate(0, n * 4);
  auto buf1 = be.allocate(1, n * 4);
  for (int iter = 0; iter < 2; ++iter) {  // a second iteration reuses the events
    tl.begin_iteration(streams);
    tl.begin("forward", 0, *s0);
    s0->fill(DType::f32, buf0.data(), n, 1.0);
    tl.end("forward", 0, *s0);
    tl.begin("backward", 0, *s0);
    s0->fill(DType::f32, buf0.data(), n, 2.0);
    tl.end("backward", 0, *s0);
    tl.begin("forward", 1, *s1);
    s1->fill(DType::f32, buf1.data(), n, 1.0);
    tl.end("forward", 1, *s1);
    s0->synchronize();
    s1->synchronize();
    const auto spans = tl.spans();
    ASSERT_EQ(spans.size(), 3u);
    EXPECT_EQ(spans[0].name, "forward");
    EXPECT_EQ(spans[0].rank, 0);
    EXPECT_EQ(spans[1].name, "backward");
    EXPECT_EQ(spans[2].rank, 1);
    for (const auto& s : spans) {
      EXPECT_GE(s.start_ms, 0.0);
      EXPECT_GE(s.end_ms, s.start_ms);
    }
    EXPECT_GE(spans[1].start_ms, spans[0].end_ms);  // same stream: in order
    EXPECT_NEAR(tl.duration_ms("backward", 0), spans[1].duration_ms(), 1e-9);
    const auto j = to_json(spans);
    ASSERT_EQ(j.size(), 3u);
    EXPECT_EQ(j[2]["name"], "forward");
    EXPECT_EQ(j[2]["rank"], 1);
  }
}

TEST(Timeline, MisuseThrows) {
  CpuBackend be;
  auto s0 = be.make_stream(0);
  std::vector<Stream*> streams = {s0.get()};
  Timeline tl(be, {0});
  tl.begin_iteration(streams);
  EXPECT_THROW(tl.end("x", 0, *s0), std::logic_error);
  tl.begin("x", 0, *s0);
  EXPECT_THROW(tl.begin("x", 0, *s0), std::logic_error);
  EXPECT_THROW(tl.begin("y", 3, *s0), std::invalid_argument);
  s0->synchronize();
  EXPECT_THROW(tl.spans(), std::logic_error);
  EXPECT_THROW(tl.duration_ms("never", 0), std::logic_error);
  std::vector<Stream*> two = {s0.get(), s0.get()};
  EXPECT_THROW(tl.begin_iteration(two), std::invalid_argument);
}

}  // namespace
}  // namespace dpb
