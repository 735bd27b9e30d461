// The communicator seam: algorithm names, what runs where (NCCL refusals, decided without a GPU),
// argument checking, the p2p communicator's plan/scratch cache, the CommunicatorCache, abort.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "collectives/algorithm_rules.h"
#include "collectives/allreduce_check.h"
#include "collectives/communicator.h"
#include "collectives/communicator_cache.h"
#include "collectives/p2p_communicator.h"
#include "device/cpu_backend.h"
#include "device/error.h"

namespace dpb {
namespace {

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(no exception)";
}

TEST(AlgorithmName, ParsesEveryNameAndPrintsItBack) {
  const auto names = all_algorithm_names();
  ASSERT_EQ(names.size(), 7u);
  for (const auto& name : names) EXPECT_EQ(parse_algorithm(name).text(), name);
  EXPECT_EQ(parse_algorithm("p2p-direct").transport, Transport::p2p);
  EXPECT_EQ(parse_algorithm("nccl-auto").transport, Transport::nccl);
  EXPECT_EQ(parse_algorithm("mpi").transport, Transport::mpi);
  const std::string msg = message_of([] { parse_algorithm("p2p-auto"); });
  EXPECT_NE(msg.find("p2p-auto"), std::string::npos) << msg;
  EXPECT_NE(msg.find("p2p-ring, p2p-tree, p2p-direct, nccl-ring, nccl-tree, nccl-auto, mpi"), std::string::npos) << msg;
  EXPECT_THROW(parse_algorithm(""), std::invalid_argument);
  EXPECT_THROW(parse_algorithm("ring"), std::invalid_argument);
}

TEST(AlgorithmRules, NcclNamesAreRefusedOnTheCpuBackendNeverReplaced) {
  CpuBackend backend;
  for (const char* name : {"nccl-ring", "nccl-tree", "nccl-auto"}) {
    const std::string msg = message_of([&] { make_communicator(backend, parse_algorithm(name), {0, 1}); });
    EXPECT_EQ(msg, std::string(name) + " needs the cuda backend (NCCL); on cpu use p2p-ring, p2p-tree or p2p-direct");
  }
}

TEST(AlgorithmRules, NcclRefusesRepeatedDevicesBefore2_30) {
  const AlgorithmName ring = parse_algorithm("nccl-ring");
  EXPECT_FALSE(nccl_device_refusal(ring, {0, 1, 2}, false, 22809));
  const auto why = nccl_device_refusal(ring, {0, 1, 0}, false, 22809);
  ASSERT_TRUE(why);
  EXPECT_NE(why->find("NCCL refuses two ranks on one GPU (NCCL < 2.30); use a p2p-* algorithm or give each rank its own device"),
            std::string::npos)
      << *why;
  EXPECT_NE(why->find("nccl-ring"), std::string::npos) << *why;
  // Asking for multi-rank GPUs helps only where the loaded NCCL has the switch.
  const auto still = nccl_device_refusal(ring, {0, 0}, true, 22809);
  ASSERT_TRUE(still);
  EXPECT_NE(still->find("2.28.9"), std::string::npos) << *still;
  EXPECT_FALSE(nccl_device_refusal(ring, {0, 0}, true, 23000));
  EXPECT_TRUE(nccl_device_refusal(ring, {0, 0}, false, 23000));
  EXPECT_EQ(nccl_version_text(22809), "2.28.9");
  EXPECT_EQ(nccl_version_text(2804), "2.8.4");
  EXPECT_EQ(nccl_version_text(23001), "2.30.1");
}

// A few ranks on the cpu backend with their streams and buffers.
struct World {
  explicit World(int ranks, std::size_t capacity, DType dtype = DType::f32) : n(ranks), type(dtype) {
    for (int r = 0; r < n; ++r) {
      devices.push_back(r);
      owned.push_back(backend.make_stream(r));
      streams.push_back(owned.back().get());
      bufs.push_back(backend.allocate(r, std::max<std::size_t>(1, capacity) * dtype_size(type)));
      send.push_back(bufs.back().data());
      recv.push_back(bufs.back().data());
    }
  }
  // Fills the inputs, runs an in-place all-reduce, returns the wrong elements over all ranks.
  std::size_t run(Communicator& comm, std::size_t elems) {
    std::vector<std::vector<std::byte>> host(static_cast<std::size_t>(n), std::vector<std::byte>(elems * dtype_size(type)));
    for (int r = 0; r < n; ++r) {
      fill_allreduce_input(type, InputPattern::integers, r, n, host[static_cast<std::size_t>(r)]);
      streams[static_cast<std::size_t>(r)]->copy_from_host(recv[static_cast<std::size_t>(r)],
                                                          host[static_cast<std::size_t>(r)].data(), host[0].size());
    }
    comm.allreduce(type, send, recv, elems, streams);
    std::size_t wrong = 0;
    for (int r = 0; r < n; ++r) {
      auto& s = *streams[static_cast<std::size_t>(r)];
      s.copy_to_host(host[static_cast<std::size_t>(r)].data(), recv[static_cast<std::size_t>(r)], host[0].size());
      s.synchronize();
      wrong += check_allreduce_output(type, InputPattern::integers, n, host[static_cast<std::size_t>(r)]).wrong;
    }
    return wrong;
  }
  CpuBackend backend;
  int n;
  DType type;
  std::vector<int> devices;
  std::vector<std::unique_ptr<Stream>> owned;
  std::vector<Stream*> streams;
  std::vector<DeviceBuffer> bufs;
  std::vector<const void*> send;
  std::vector<void*> recv;
};

TEST(P2pCommunicator, RepeatedCallsOfOneSizeAllocateNothing) {
  World w(4, 5000);
  CommunicatorOptions opt;
  opt.chunk_bytes = 1024;
  auto comm = make_communicator(w.backend, parse_algorithm("p2p-ring"), w.devices, opt);
  auto& p2p = dynamic_cast<P2pCommunicator&>(*comm);
  ASSERT_EQ(w.run(*comm, 5000), 0u);
  const P2pCacheStats first = p2p.cache_stats();
  EXPECT_EQ(first.plans_built, 1u);
  EXPECT_GT(first.scratch_allocations, 0u);
  for (int i = 0; i < 3; ++i) ASSERT_EQ(w.run(*comm, 5000), 0u);
  EXPECT_EQ(p2p.cache_stats().plans_built, 1u);
  EXPECT_EQ(p2p.cache_stats().scratch_allocations, first.scratch_allocations);
  // A smaller size needs a new plan but no more scratch.
  ASSERT_EQ(w.run(*comm, 100), 0u);
  EXPECT_EQ(p2p.cache_stats().plans_built, 2u);
  EXPECT_EQ(p2p.cache_stats().scratch_allocations, first.scratch_allocations);
}

TEST(P2pCommunicator, EvictsOldPlansAndStaysCorrect) {
  World w(3, 600);
  auto comm = make_communicator(w.backend, parse_algorithm("p2p-direct"), w.devices);
  auto& p2p = dynamic_cast<P2pCommunicator&>(*comm);
  for (std::size_t count = 1; count <= P2pCommunicator::kMaxPlans + 4; ++count) {
    ASSERT_EQ(w.run(*comm, count * 7), 0u) << count;
  }
  EXPECT_EQ(p2p.cache_stats().plans_cached, P2pCommunicator::kMaxPlans);
  EXPECT_EQ(p2p.cache_stats().plans_built, P2pCommunicator::kMaxPlans + 4);
  ASSERT_EQ(w.run(*comm, 7), 0u);  // evicted earlier, rebuilt now
  EXPECT_EQ(p2p.cache_stats().plans_built, P2pCommunicator::kMaxPlans + 5);
}

TEST(P2pCommunicator, RejectsBadArgumentsWithClearMessages) {
  World w(2, 64);
  auto comm = make_communicator(w.backend, parse_algorithm("p2p-tree"), w.devices);
  std::vector<const void*> one_send{w.send[0]};
  EXPECT_NE(message_of([&] { comm->allreduce(DType::f32, one_send, w.recv, 64, w.streams); }).find("expected 2"),
            std::string::npos);
  auto wrong_device = w.backend.make_stream(5);
  std::vector<Stream*> streams{w.streams[0], wrong_device.get()};
  EXPECT_NE(message_of([&] { comm->allreduce(DType::f32, w.send, w.recv, 64, streams); }).find("device 5"),
            std::string::npos);
  auto other = w.backend.allocate(1, 64 * 4);
  std::vector<void*> mixed{w.recv[0], other.data()};
  EXPECT_NE(message_of([&] { comm->allreduce(DType::f32, w.send, mixed, 64, w.streams); }).find("in place on some"),
            std::string::npos);
  auto big = w.backend.allocate(0, 128 * 4);
  std::vector<const void*> s{big.data(), w.send[1]};
  std::vector<void*> r{big.as<float>() + 8, other.data()};
  EXPECT_NE(message_of([&] { comm->allreduce(DType::f32, s, r, 64, w.streams); }).find("overlap"), std::string::npos);
  // Zero elements: nothing to check, nothing to do.
  std::vector<const void*> null_send{nullptr, nullptr};
  std::vector<void*> null_recv{nullptr, nullptr};
  EXPECT_NO_THROW(comm->allreduce(DType::f32, null_send, null_recv, 0, w.streams));
  EXPECT_EQ(dynamic_cast<P2pCommunicator&>(*comm).cache_stats().plans_built, 0u);
}

TEST(P2pCommunicator, RejectsBadOptionsAndDevices) {
  CpuBackend backend;
  CommunicatorOptions opt;
  opt.pipeline_slots = 0;
  EXPECT_NE(message_of([&] { make_communicator(backend, parse_algorithm("p2p-ring"), {0, 1}, opt); }).find("pipeline_slots"),
            std::string::npos);
  opt = {};
  opt.chunk_bytes = 0;
  EXPECT_THROW(make_communicator(backend, parse_algorithm("p2p-ring"), {0, 1}, opt), std::invalid_argument);
  EXPECT_NE(message_of([&] { make_communicator(backend, parse_algorithm("p2p-ring"), {0, 99}); }).find("device 99"),
            std::string::npos);
  EXPECT_THROW(make_communicator(backend, parse_algorithm("p2p-ring"), {}), std::invalid_argument);
}

TEST(CommunicatorCache, CreatesOncePerKeyAndEvictsTheLeastRecentlyUsed) {
  CpuBackend backend;
  CommunicatorCache cache(backend, 2);
  Communicator& a = cache.get(parse_algorithm("p2p-ring"), {0, 1});
  EXPECT_EQ(&cache.get(parse_algorithm("p2p-ring"), {0, 1}), &a);
  EXPECT_EQ(cache.created(), 1u);
  cache.get(parse_algorithm("p2p-tree"), {0, 1});
  CommunicatorOptions opt;
  opt.chunk_bytes = 4096;
  cache.get(parse_algorithm("p2p-tree"), {0, 1}, opt);  // other options: another communicator
  EXPECT_EQ(cache.created(), 3u);
  EXPECT_EQ(cache.size(), 2u);
  cache.get(parse_algorithm("p2p-ring"), {0, 1});  // evicted, created again
  EXPECT_EQ(cache.created(), 4u);
  EXPECT_THROW(cache.get(parse_algorithm("nccl-ring"), {0, 1}), std::invalid_argument);
  EXPECT_EQ(cache.size(), 1u);  // made room first; the refused one is not cached
}

TEST(P2pCommunicator, AbortTurnsABlockedCollectiveIntoAnError) {
  World w(2, 256);
  auto comm = make_communicator(w.backend, parse_algorithm("p2p-ring"), w.devices);
  // Rank 1's stream is stuck in earlier work, so rank 0 waits for it inside the collective.
  std::atomic<bool> release{false};
  dynamic_cast<CpuStream&>(*w.streams[1]).enqueue([&] {
    while (!release.load()) std::this_thread::yield();
  });
  comm->allreduce(DType::f32, w.send, w.recv, 256, w.streams);
  EXPECT_FALSE(w.streams[0]->query());
  comm->abort();
  EXPECT_THROW(w.streams[0]->synchronize(), DeviceError);
  release = true;
  comm.reset();  // waits for the streams' remaining bookkeeping before freeing its events
}

}  // namespace
}  // namespace dpb
