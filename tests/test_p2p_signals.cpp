// Signals that name their generation, and what they make possible: every p2p all-reduce fits the
// per-stream operation bound at every size, ranks enqueue from their own threads in any
// interleaving, and the cpu backend keeps CUDA's bounded stream queue (an enqueue blocks once the
// queue is full), so a design that would stall a GPU's host thread stalls, and fails, here.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "collectives/allreduce_check.h"
#include "collectives/communicator.h"
#include "collectives/p2p_communicator.h"
#include "device/cpu_backend.h"
#include "device/error.h"

namespace dpb {
namespace {

TEST(StreamOpBound, EveryP2pAllreduceUpTo1GiBPutsAtMost256OpsOnAnyStream) {
  for (const char* name : {"p2p-ring", "p2p-tree", "p2p-direct"}) {
    const AlgorithmName algo = parse_algorithm(name);
    for (int n = 1; n <= 8; ++n) {
      for (std::size_t chunk : {std::size_t{1} << 20, std::size_t{64} << 10}) {
        CommunicatorOptions opt;
        opt.chunk_bytes = chunk;
        for (std::size_t bytes = 8; bytes <= (std::size_t{1} << 30); bytes *= 4) {
          for (DType t : {DType::f32, DType::f16}) {
            const CallPlan p = plan_allreduce_call(algo, n, t, bytes / dtype_size(t), n % 2 == 0, opt);
            ASSERT_LE(p.ops_per_stream, kMaxOpsPerStream)
                << name << " n=" << n << " bytes=" << bytes << " chunk=" << chunk << " " << dtype_name(t);
          }
        }
      }
    }
  }
}

TEST(StreamOpBound, SmallMessagesKeepTheRequestedChunkLargeOnesGrowIt) {
  CommunicatorOptions opt;
  opt.chunk_bytes = 64 << 10;
  const AlgorithmName ring = parse_algorithm("p2p-ring");
  EXPECT_EQ(plan_allreduce_call(ring, 4, DType::f32, (1 << 20) / 4, false, opt).chunk_bytes, opt.chunk_bytes);
  const CallPlan big = plan_allreduce_call(ring, 8, DType::f32, (std::size_t{1} << 30) / 4, false, opt);
  EXPECT_GT(big.chunk_bytes, opt.chunk_bytes);
  EXPECT_LE(big.ops_per_stream, kMaxOpsPerStream);
  EXPECT_EQ(plan_allreduce_call(parse_algorithm("nccl-ring"), 8, DType::f32, 1 << 20, false, opt).ops_per_stream, 1u);
}

TEST(CpuSignals, AWaitEnqueuedBeforeItsWriteWaitsForTheValueItNames) {
  CpuBackend backend;
  auto signals = backend.make_signals(2);
  auto waiter = backend.make_stream(0);
  auto writer = backend.make_stream(1);
  int seen = -1;
  int data = 0;
  waiter->wait_signal(*signals, 1, 2);  // enqueued before any write: no host order needed
  dynamic_cast<CpuStream&>(*waiter).enqueue([&] { seen = data; });
  writer->write_signal(*signals, 1, 1);  // not enough
  dynamic_cast<CpuStream&>(*writer).enqueue([&] { data = 42; });
  writer->write_signal(*signals, 1, 2);
  waiter->synchronize();
  writer->synchronize();
  EXPECT_EQ(seen, 42);
  EXPECT_EQ(signals->load(1), 2u);
  EXPECT_EQ(signals->load(0), 0u);
  EXPECT_THROW(writer->write_signal(*signals, 2, 1), std::out_of_range);
}

TEST(CpuSignals, AbortEndsABlockedWait) {
  CpuBackend backend;
  auto signals = backend.make_signals(1);
  auto s = backend.make_stream(0);
  s->wait_signal(*signals, 0, 1);
  backend.abort();
  EXPECT_THROW(s->synchronize(), DeviceError);
}

TEST(CpuSignals, ReleaseAllSatisfiesEveryWaitButAnAbortedBackendStillFails) {
  CpuBackend backend;
  auto signals = backend.make_signals(2);
  auto s = backend.make_stream(0);
  s->wait_signal(*signals, 1, 1000);
  signals->release_all();  // how a collective's waits are ended where no call can end them (cuda)
  s->synchronize();
  EXPECT_GE(signals->load(1), 1000u);
  signals->reset();
  EXPECT_EQ(signals->load(1), 0u);
  s->wait_signal(*signals, 0, 1);
  backend.abort();
  signals->release_all();  // released, but the cpu backend's abort wins: the wait fails
  EXPECT_THROW(s->synchronize(), DeviceError);
}

TEST(CpuQueueDepth, AnEnqueueBlocksWhileTheStreamHoldsDepthPendingOperations) {
  CpuBackendOptions opt;
  opt.queue_depth = 4;
  CpuBackend backend(opt);
  auto s = backend.make_stream(0);
  auto& cpu = dynamic_cast<CpuStream&>(*s);
  std::atomic<bool> release{false};
  cpu.enqueue([&] {
    while (!release.load()) std::this_thread::yield();
  });
  std::atomic<int> enqueued{0};
  std::thread host([&] {
    for (int i = 0; i < 10; ++i) {
      cpu.enqueue([] {});
      ++enqueued;
    }
  });
  // The held task and three more fill the queue; the host can add no fifth while it is held.
  while (enqueued.load() < 3) std::this_thread::yield();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(enqueued.load(), 3);
  release = true;
  host.join();
  s->synchronize();
  EXPECT_EQ(enqueued.load(), 10);
  EXPECT_THROW(CpuBackend(CpuBackendOptions{1, 1 << 20, 1}), std::invalid_argument);
}

// Ranks on the cpu backend, each with a stream and an in-place buffer.
struct Ranks {
  Ranks(int n, std::size_t capacity, std::size_t depth) : backend(CpuBackendOptions{8, std::size_t{1} << 30, depth}) {
    for (int r = 0; r < n; ++r) {
      devices.push_back(r);
      streams.push_back(backend.make_stream(r));
      bufs.push_back(backend.allocate(r, capacity * sizeof(float)));
      send.push_back(bufs.back().data());  // in place
      recv.push_back(bufs.back().data());
      stream_ptrs.push_back(streams.back().get());
    }
  }
  void upload(int r, std::size_t count, std::vector<std::byte>& host) {
    host.resize(count * sizeof(float));
    fill_allreduce_input(DType::f32, InputPattern::integers, r, static_cast<int>(devices.size()), host);
    streams[static_cast<std::size_t>(r)]->copy_from_host(bufs[static_cast<std::size_t>(r)].data(), host.data(), host.size());
  }
  std::size_t wrong(int r, std::size_t count, std::vector<std::byte>& host) {
    Stream& s = *streams[static_cast<std::size_t>(r)];
    s.copy_to_host(host.data(), bufs[static_cast<std::size_t>(r)].data(), count * sizeof(float));
    s.synchronize();
    return check_allreduce_output(DType::f32, InputPattern::integers, static_cast<int>(devices.size()),
                                  std::span<const std::byte>(host.data(), count * sizeof(float)))
        .wrong;
  }
  CpuBackend backend;
  std::vector<int> devices;
  std::vector<std::unique_ptr<Stream>> streams;
  std::vector<DeviceBuffer> bufs;
  std::vector<const void*> send;  // the spans Communicator::allreduce takes
  std::vector<void*> recv;
  std::vector<Stream*> stream_ptrs;
};

class ThreadPerRank : public ::testing::TestWithParam<const char*> {};

// Each rank's thread uploads, all-reduces and checks on its own, with random pauses between its
// enqueues, under a queue far shorter than one call's operations: only the signals order them.
TEST_P(ThreadPerRank, RanksEnqueueIndependentlyInAnyInterleavingUnderAShortQueue) {
  const int n = 4;
  Ranks w(n, 40000, 8);
  CommunicatorOptions opt;
  opt.chunk_bytes = 4096;
  auto comm = make_communicator(w.backend, parse_algorithm(GetParam()), w.devices, opt);
  std::vector<std::size_t> wrong(n, 0);
  std::vector<std::thread> threads;
  for (int r = 0; r < n; ++r) {
    threads.emplace_back([&, r] {
      std::mt19937 rng(static_cast<unsigned>(r));
      std::vector<std::byte> host;
      for (std::size_t count : {std::size_t{1}, std::size_t{40000}, std::size_t{777}, std::size_t{40000}, std::size_t{0}, std::size_t{5}}) {
        w.upload(r, count, host);
        if (rng() % 2) std::this_thread::sleep_for(std::chrono::microseconds(rng() % 500));
        void* buf = w.bufs[static_cast<std::size_t>(r)].data();
        comm->allreduce_rank(r, DType::f32, buf, buf, count, *w.streams[static_cast<std::size_t>(r)]);
        if (count) wrong[static_cast<std::size_t>(r)] += w.wrong(r, count, host);
      }
    });
  }
  for (auto& t : threads) t.join();
  for (int r = 0; r < n; ++r) EXPECT_EQ(wrong[static_cast<std::size_t>(r)], 0u) << "rank " << r;
}

// One thread for all ranks under the same short queue: the sequential execution order keeps the
// host from blocking on a queue whose stream waits for work not yet enqueued.
TEST_P(ThreadPerRank, OneHostThreadForAllRanksDoesNotDeadlockOnAShortQueue) {
  const int n = 4;
  const std::size_t count = 40000;
  Ranks w(n, count, 8);
  CommunicatorOptions opt;
  opt.chunk_bytes = 4096;
  auto comm = make_communicator(w.backend, parse_algorithm(GetParam()), w.devices, opt);
  std::vector<std::vector<std::byte>> host(n);
  for (int r = 0; r < n; ++r) w.upload(r, count, host[static_cast<std::size_t>(r)]);
  comm->allreduce(DType::f32, w.send, w.recv, count, w.stream_ptrs);
  for (int r = 0; r < n; ++r) EXPECT_EQ(w.wrong(r, count, host[static_cast<std::size_t>(r)]), 0u) << "rank " << r;
}

INSTANTIATE_TEST_SUITE_P(Algorithms, ThreadPerRank, ::testing::Values("p2p-ring", "p2p-tree", "p2p-direct"),
                         [](const auto& p) { return std::string(p.param).substr(4); });

// A rewound communicator enqueues exactly what its first call did (how a captured CUDA graph is
// replayed): the call after a rewind is correct again, and a call that skipped the rewind would
// have waited for values the signals already hold.
TEST(P2pRewind, TheCallAfterARewindRepeatsTheFirstCall) {
  const int n = 3;
  const std::size_t count = 5000;
  Ranks w(n, count, 1024);
  CommunicatorOptions opt;
  opt.chunk_bytes = 1024;
  auto comm = make_communicator(w.backend, parse_algorithm("p2p-ring"), w.devices, opt);
  std::vector<std::vector<std::byte>> host(n);
  for (int call = 0; call < 3; ++call) {
    for (int r = 0; r < n; ++r) w.upload(r, count, host[static_cast<std::size_t>(r)]);
    comm->allreduce(DType::f32, w.send, w.recv, count, w.stream_ptrs);
    for (int r = 0; r < n; ++r) EXPECT_EQ(w.wrong(r, count, host[static_cast<std::size_t>(r)]), 0u) << "call " << call;
    comm->rewind();  // streams are synchronized by wrong()
  }
}

TEST(CpuEvents, ElapsedTimeAcrossDevicesIsRefusedAsOnCuda) {
  CpuBackend backend;
  auto a = backend.make_event(0);
  auto b = backend.make_event(1);
  auto s0 = backend.make_stream(0);
  auto s1 = backend.make_stream(1);
  s0->record(*a);
  s1->record(*b);
  s0->synchronize();
  s1->synchronize();
  EXPECT_THROW((void)b->elapsed_ms_since(*a), std::invalid_argument);
}

TEST(ThreadPerRankAbort, ARankThatNeverArrivesIsReleasedByAbort) {
  Ranks w(2, 16, 1024);
  auto comm = make_communicator(w.backend, parse_algorithm("p2p-ring"), w.devices);
  void* buf = w.bufs[0].data();
  std::thread rank0([&] {
    EXPECT_THROW(comm->allreduce_rank(0, DType::f32, buf, buf, 16, *w.streams[0]), std::runtime_error);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  comm->abort();  // rank 1 never came
  rank0.join();
}

}  // namespace
}  // namespace dpb
