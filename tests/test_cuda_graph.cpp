// CUDA-graph capture (core/graph/graph_capture.h) on a GPU (gpu test binary; the cpu backend's
// refusal is test_graph_capture.cpp): both strategies replay the captured work on every stream, a
// failed capture leaves the streams usable, and NCCL and p2p all-reduces can be captured (what
// `allreduce --graph` does).
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "gpu_test_support.h"
#include "collectives/communicator.h"
#include "device/backend.h"
#include "graph/graph_capture.h"

namespace dpb {
namespace {

struct Rig {
  std::unique_ptr<Backend> be = make_backend(BackendKind::cuda);
  int other = be->device_count() > 1 ? 1 : 0;
  std::unique_ptr<Stream> s0 = be->make_stream(0), s1 = be->make_stream(other);
  DeviceBuffer a = be->allocate(0, 4 * 1024), b = be->allocate(other, 4 * 1024);

  float first(const DeviceBuffer& buf, Stream& s) {
    float v = 0;
    s.copy_to_host(&v, buf.data(), 4);
    s.synchronize();
    return v;
  }
};

TEST(CudaGraph, ForkJoinReplaysWorkOnEveryStreamWithCrossStreamEdges) {
  DPB_REQUIRE_GPU();
  Rig r;
  r.s0->fill(DType::f32, r.a.data(), 1024, 1.0);
  r.s1->fill(DType::f32, r.b.data(), 1024, 0.0);
  auto ready = r.be->make_event(0, false);
  Stream* streams[] = {r.s0.get(), r.s1.get()};
  // a *= 2 on stream 0; then stream 1 adds a into b (a cross-stream edge inside the capture).
  auto graph = capture_graph(*r.be, streams, [&] {
    r.s0->scale(DType::f32, r.a.data(), 1024, 2.0f);
    r.s0->record(*ready);
    r.s1->wait(*ready);
    r.s1->copy_peer(r.b.data(), r.other, r.a.data(), 0, 4 * 1024);
  });
  EXPECT_EQ(graph->graphs(), 1u);
  EXPECT_GE(graph->nodes(), 2u);
  EXPECT_EQ(r.first(r.a, *r.s0), 1.0f);  // capturing ran nothing
  for (int i = 0; i < 3; ++i) graph->launch();
  r.s0->synchronize();
  r.s1->synchronize();
  EXPECT_EQ(r.first(r.a, *r.s0), 8.0f);
  EXPECT_EQ(r.first(r.b, *r.s1), 8.0f);
}

TEST(CudaGraph, PerStreamReplaysIndependentStreams) {
  DPB_REQUIRE_GPU();
  Rig r;
  r.s0->fill(DType::f32, r.a.data(), 1024, 3.0);
  r.s1->fill(DType::f32, r.b.data(), 1024, 5.0);
  Stream* streams[] = {r.s0.get(), r.s1.get()};
  auto graph = capture_graph(
      *r.be, streams,
      [&] {
        r.s0->scale(DType::f32, r.a.data(), 1024, 2.0f);
        r.s1->scale(DType::f32, r.b.data(), 1024, 0.5f);
      },
      GraphCapture::per_stream);
  EXPECT_EQ(graph->graphs(), 2u);
  graph->launch();
  graph->launch();
  EXPECT_EQ(r.first(r.a, *r.s0), 12.0f);
  EXPECT_EQ(r.first(r.b, *r.s1), 1.25f);
}

TEST(CudaGraph, AFailedCaptureLeavesTheStreamsUsable) {
  DPB_REQUIRE_GPU();
  Rig r;
  Stream* streams[] = {r.s0.get(), r.s1.get()};
  for (GraphCapture strategy : {GraphCapture::fork_join, GraphCapture::per_stream}) {
    EXPECT_THROW(capture_graph(
                     *r.be, streams,
                     [&] {
                       r.s0->fill(DType::f32, r.a.data(), 1024, 1.0);
                       throw std::runtime_error("enqueue failed");
                     },
                     strategy),
                 std::runtime_error);
    r.s0->fill(DType::f32, r.a.data(), 1024, 9.0);
    r.s1->fill(DType::f32, r.b.data(), 1024, 9.0);
    EXPECT_EQ(r.first(r.a, *r.s0), 9.0f) << graph_capture_name(strategy);
    EXPECT_EQ(r.first(r.b, *r.s1), 9.0f) << graph_capture_name(strategy);
  }
  Stream* twice[] = {r.s0.get(), r.s0.get()};
  EXPECT_THROW(capture_graph(*r.be, twice, [] {}), std::invalid_argument);
}

// A fork-join capture makes each signal wait depend on its write's graph node
// (core/device/cuda_capture_edges.h); a wait captured before its write cannot be given that edge
// and is refused, leaving the streams usable.
TEST(CudaGraph, ForkJoinSignalWaitsHangOnTheirWritesAndAWaitBeforeItsWriteIsRefused) {
  DPB_REQUIRE_GPU();
  Rig r;
  auto signals = r.be->make_signals(1);
  Stream* streams[] = {r.s0.get(), r.s1.get()};
  EXPECT_THROW(capture_graph(*r.be, streams,
                             [&] {
                               r.s1->wait_signal(*signals, 0, 1);
                               r.s0->write_signal(*signals, 0, 1);
                             }),
               std::logic_error);
  auto graph = capture_graph(*r.be, streams, [&] {
    r.s0->fill(DType::f32, r.a.data(), 1024, 3.0);
    r.s0->write_signal(*signals, 0, 1);
    r.s1->wait_signal(*signals, 0, 1);
    r.s1->copy_peer(r.b.data(), r.s1->device(), r.a.data(), 0, 4 * 1024);
  });
  for (int i = 0; i < 3; ++i) {
    r.s1->fill(DType::f32, r.b.data(), 1024, 0.0);
    signals->reset();  // the captured wait names value 1
    graph->launch();
    EXPECT_EQ(r.first(r.b, *r.s1), 3.0f) << "replay " << i;
    r.s0->synchronize();
  }
}

// What `allreduce --graph` captures: N all-reduce calls, replayed by one launch.
void capture_allreduce(const std::string& algo, GraphCapture strategy) {
  auto be = make_backend(BackendKind::cuda);
  const int ranks = algo.rfind("nccl", 0) == 0 ? std::min(be->device_count(), 2) : 2;
  std::vector<int> devices;
  for (int r = 0; r < ranks; ++r) devices.push_back(std::min(r, be->device_count() - 1));
  auto comm = make_communicator(*be, parse_algorithm(algo), devices);
  const std::size_t count = 1 << 16;
  std::vector<DeviceBuffer> bufs;
  std::vector<std::unique_ptr<Stream>> owned;
  std::vector<Stream*> streams;
  std::vector<const void*> send;
  std::vector<void*> recv;
  for (int r = 0; r < ranks; ++r) {
    bufs.push_back(be->allocate(devices[r], count * 4));
    owned.push_back(be->make_stream(devices[r]));
    streams.push_back(owned.back().get());
    owned.back()->fill(DType::f32, bufs.back().data(), count, 1.0);
    owned.back()->synchronize();
    send.push_back(bufs.back().data());
    recv.push_back(bufs.back().data());
  }
  // One eager call first (NCCL connects lazily; nccl-tests warms up before capturing too).
  comm->allreduce(DType::f32, send, recv, count, streams);
  for (auto* s : streams) s->synchronize();  // every element is now `ranks`
  auto graph = capture_graph(
      *be, streams, [&] { comm->allreduce(DType::f32, send, recv, count, streams); }, strategy);
  graph->launch();
  graph->launch();
  for (int r = 0; r < ranks; ++r) {
    float v = 0;
    streams[r]->copy_to_host(&v, bufs[r].data(), 4);
    streams[r]->synchronize();
    const float expected = static_cast<float>(ranks * ranks * ranks);  // three all-reduces of ones
    EXPECT_EQ(v, expected) << algo << " " << graph_capture_name(strategy) << " rank " << r;
  }
}

TEST(CudaGraph, CapturesNcclAllReduce) {
  DPB_REQUIRE_GPU();
  capture_allreduce("nccl-auto", GraphCapture::per_stream);
  capture_allreduce("nccl-auto", GraphCapture::fork_join);
}

TEST(CudaGraph, CapturesP2pAllReduce) {
  DPB_REQUIRE_GPU();
  capture_allreduce("p2p-ring", GraphCapture::fork_join);
}

}  // namespace
}  // namespace dpb
