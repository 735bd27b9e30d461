// CUDA-graph capture (core/graph/graph_capture.h) where there is none: refused with a clear message
// on the cpu backend before anything is enqueued; the strategies' names. The captures themselves are
// test_cuda_graph.cpp (gpu test binary).
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "device/cpu_backend.h"
#include "graph/graph_capture.h"

namespace dpb {
namespace {

TEST(GraphCapture, RefusedOnTheCpuBackendWithAReason) {
  CpuBackend be(CpuBackendOptions{2, 1 << 20});
  ASSERT_FALSE(capture_supported(be));
  const auto why = graph_capture_unsupported(be);
  ASSERT_TRUE(why);
  EXPECT_NE(why->find("cuda backend"), std::string::npos) << *why;
  auto s = be.make_stream(0);
  Stream* streams[] = {s.get()};
  bool ran = false;
  try {
    (void)capture_graph(be, streams, [&] { ran = true; });
    FAIL() << "the cpu backend captured a graph";
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()), *why);
  }
  EXPECT_FALSE(ran);  // nothing was enqueued
}

TEST(GraphCapture, StrategyNames) {
  EXPECT_EQ(parse_graph_capture("fork_join", "--graph-capture"), GraphCapture::fork_join);
  EXPECT_EQ(parse_graph_capture("per_stream", "--graph-capture"), GraphCapture::per_stream);
  EXPECT_EQ(graph_capture_name(GraphCapture::per_stream), "per_stream");
  EXPECT_THROW(parse_graph_capture("both", "--graph-capture"), std::invalid_argument);
}

}  // namespace
}  // namespace dpb
