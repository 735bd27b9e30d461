// A process per rank without mpirun: memory and signals shared between processes on the cpu
// backend (a forked child writes a signal a stream waits on), and the process-per-rank
// communicators (p2p-* through shared staging, mpi through the world's all-reduce) driven by
// ThreadWorld, one thread and one cpu backend per rank, as separate processes would hold them.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "collectives/allreduce_check.h"
#include "collectives/communicator.h"
#include "collectives/process_p2p_communicator.h"
#include "device/cpu_backend.h"
#include "thread_world.h"

namespace dpb {
namespace {

TEST(CpuSharedMemory, ASignalWrittenByAnotherProcessReleasesAStreamWait) {
  CpuBackend backend(CpuBackendOptions{2});
  Backend::SharedBuffer shared = backend.allocate_shared(0, 64);
  auto signals = backend.make_signals_in(shared.buffer.data(), 8);
  auto stream = backend.make_stream(0);
  stream->wait_signal(*signals, 3, 7);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {  // the peer: maps the segment by its handle and writes the slot (no allocation
                     // after fork in a threaded process, so plain POSIX calls)
    const int fd = ::shm_open(shared.handle.c_str(), O_RDWR, 0);
    void* p = fd < 0 ? MAP_FAILED : ::mmap(nullptr, 64, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) ::_exit(1);
    ::usleep(50000);
    static_cast<std::atomic<std::uint64_t>*>(p)[3].store(7, std::memory_order_release);
    ::_exit(0);
  }
  stream->synchronize();  // returns only once the child's write is seen
  EXPECT_EQ(signals->load(3), 7u);
  int status = 0;
  ::waitpid(child, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  backend.seal_shared(shared.handle);
  EXPECT_THROW(backend.open_shared(0, shared.handle, 64), std::runtime_error);  // the name is gone
}

// Runs `ranks` ranks, each on its own thread with its own backend and communicator, making the
// same calls; every output is checked against the host reference.
void run_world(const std::string& algo_name, int ranks, const std::vector<std::size_t>& counts, DType type) {
  test::ThreadWorld::Shared shared(ranks);
  std::vector<std::string> errors(static_cast<std::size_t>(ranks));
  std::vector<std::thread> threads;
  for (int rank = 0; rank < ranks; ++rank) {
    threads.emplace_back([&, rank] {
      test::ThreadWorld world(shared, rank);
      try {
        CpuBackend backend(CpuBackendOptions{ranks});
        CommunicatorOptions options;
        options.chunk_bytes = 4096;  // several chunks per message, to pipeline through the scratch
        auto comm = make_world_communicator(backend, world, parse_algorithm(algo_name), rank, options);
        auto stream = backend.make_stream(rank);
        for (std::size_t count : counts) {
          for (bool in_place : {false, true}) {
            const std::size_t bytes = count * dtype_size(type);
            std::vector<std::byte> input(bytes), output(bytes);
            fill_allreduce_input(type, InputPattern::integers, rank, ranks, input);
            DeviceBuffer send = backend.allocate(rank, bytes + 16), recv = backend.allocate(rank, bytes + 16);
            stream->copy_from_host(send.data(), input.data(), bytes);
            void* out = in_place ? send.data() : recv.data();
            comm->allreduce_rank(rank, type, send.data(), out, count, *stream);
            stream->copy_to_host(output.data(), out, bytes);
            stream->synchronize();
            const CheckResult c = check_allreduce_output(type, InputPattern::integers, ranks, output);
            if (c.wrong != 0) {
              errors[static_cast<std::size_t>(rank)] += algo_name + " count " + std::to_string(count) + ": " +
                                                        std::to_string(c.wrong) + " wrong; ";
            }
          }
        }
        comm.reset();
      } catch (const std::exception& e) {
        errors[static_cast<std::size_t>(rank)] += e.what();
        world.fail();
      }
    });
  }
  for (auto& t : threads) t.join();
  for (int r = 0; r < ranks; ++r) EXPECT_EQ(errors[static_cast<std::size_t>(r)], "") << "rank " << r;
}

TEST(ProcessP2p, EveryAlgorithmMatchesTheReferenceAcrossGrowthAndPlanEviction) {
  // Ten shapes: more than kMaxPlans (so plans are evicted and their signal regions reused) and
  // growing sizes (so the staging is regrown and re-exchanged mid-run).
  std::vector<std::size_t> counts = {1, 7, 1000, 5000, 3, 20000, 1000, 65536, 12345, 70000, 1};
  static_assert(ProcessP2pCommunicator::kMaxPlans < 11);
  for (const char* algo : {"p2p-ring", "p2p-tree", "p2p-direct"}) {
    for (int ranks : {1, 2, 3, 4}) run_world(algo, ranks, counts, DType::f32);
  }
}

TEST(ProcessP2p, SixteenBitTypes) {
  run_world("p2p-ring", 3, {1000, 4097}, DType::bf16);
  run_world("p2p-direct", 2, {1000, 4097}, DType::f16);
}

TEST(WorldAllreduce, TheLibraryAllreduceAsAnAlgorithm) {
  run_world("mpi", 3, {1, 1000, 70000}, DType::f32);
  run_world("mpi", 2, {999}, DType::bf16);
}

TEST(ProcessP2p, RefusedAcrossNodesNamingTheBoundary) {
  test::ThreadWorld::Shared shared(2, {"node-a", "node-b"});
  std::vector<std::string> messages(2);
  std::vector<std::thread> threads;
  for (int rank = 0; rank < 2; ++rank) {
    threads.emplace_back([&, rank] {
      test::ThreadWorld world(shared, rank);
      CpuBackend backend(CpuBackendOptions{2});
      try {
        make_world_communicator(backend, world, parse_algorithm("p2p-tree"), rank);
      } catch (const std::invalid_argument& e) {
        messages[static_cast<std::size_t>(rank)] = e.what();
      }
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& m : messages) {
    EXPECT_NE(m.find("node boundary"), std::string::npos) << m;
    EXPECT_NE(m.find("node-a, node-b"), std::string::npos) << m;
  }
}

// A backend without memory shared between processes (cuda today) is refused by every rank before
// any rank waits on another.
class NoSharingBackend final : public Backend {
 public:
  BackendKind kind() const override { return BackendKind::cuda; }
  int device_count() const override { return 2; }
  DeviceProperties properties(int) const override { return {}; }
  DeviceBuffer allocate(int d, std::size_t b) override { return cpu_.allocate(d, b); }
  DeviceBuffer allocate_pinned(std::size_t b) override { return cpu_.allocate_pinned(b); }
  std::unique_ptr<Stream> make_stream(int d) override { return cpu_.make_stream(d); }
  std::unique_ptr<Event> make_event(int d, bool t) override { return cpu_.make_event(d, t); }
  std::unique_ptr<SignalSet> make_signals(std::size_t n) override { return cpu_.make_signals(n); }
  std::size_t stream_queue_depth() const override { return cpu_.stream_queue_depth(); }
  bool can_access_peer(int, int) const override { return true; }
  void enable_peer_access(int, int) override {}
  void disable_peer_access(int, int) override {}

 private:
  CpuBackend cpu_{CpuBackendOptions{2}};
};

TEST(ProcessP2p, RefusedWithoutSharedMemoryBeforeAnyCollective) {
  test::ThreadWorld::Shared shared(2);
  std::vector<std::string> messages(2);
  std::vector<std::thread> threads;
  for (int rank = 0; rank < 2; ++rank) {
    threads.emplace_back([&, rank] {
      test::ThreadWorld world(shared, rank);
      NoSharingBackend backend;
      try {
        ProcessP2pCommunicator comm(backend, world, "ring", rank, {});
      } catch (const std::invalid_argument& e) {
        messages[static_cast<std::size_t>(rank)] = e.what();
      }
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& m : messages) EXPECT_NE(m.find("CUDA IPC"), std::string::npos) << m;
  NoSharingBackend b;
  EXPECT_THROW(b.allocate_shared(0, 64), std::invalid_argument);
}

TEST(ProcessP2p, MpiIsRefusedInOneProcess) {
  CpuBackend backend(CpuBackendOptions{2});
  try {
    make_communicator(backend, parse_algorithm("mpi"), {0, 1});
    FAIL() << "expected a refusal";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("mpirun"), std::string::npos);
  }
}

}  // namespace
}  // namespace dpb
