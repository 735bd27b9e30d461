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
#include <functional>
#include <memory>
#include <string>
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
  const std::vector<std::string> errors = test::run_ranks(shared, [&](test::ThreadWorld& world, int rank) {
    std::string wrong;
    const std::string error = test::error_of_rank(world, [&] {
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
            wrong += algo_name + " count " + std::to_string(count) + ": " + std::to_string(c.wrong) + " wrong; ";
          }
        }
      }
      comm.reset();
    });
    return wrong + error;
  });
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

// The std::invalid_argument `make` refuses with ("" when it makes its communicator). The world is not
// failed: the ranks refuse together, after agreeing through it.
std::string refusal_of(const std::function<void()>& make) {
  try {
    make();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

TEST(ProcessP2p, RefusedAcrossNodesNamingTheBoundary) {
  test::ThreadWorld::Shared shared(2, {"node-a", "node-b"});
  const auto messages = test::run_ranks(shared, [](test::ThreadWorld& world, int rank) {
    CpuBackend backend(CpuBackendOptions{2});
    return refusal_of([&] { make_world_communicator(backend, world, parse_algorithm("p2p-tree"), rank); });
  });
  for (const auto& m : messages) {
    EXPECT_NE(m.find("node boundary"), std::string::npos) << m;
    EXPECT_NE(m.find("node-a, node-b"), std::string::npos) << m;
  }
}

// Two devices over a cpu backend's memory and streams; the tests' backends below change what the
// process-per-rank communicator sees (kind, device identity, memory shared between processes).
class TwoDeviceBackend : public Backend {
 public:
  BackendKind kind() const override { return BackendKind::cpu; }
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

 protected:
  CpuBackend cpu_{CpuBackendOptions{2}};
};

// A backend without memory shared between processes is refused by every rank together.
class NoSharingBackend final : public TwoDeviceBackend {
 public:
  BackendKind kind() const override { return BackendKind::cuda; }
};

TEST(ProcessP2p, RefusedWithoutSharedMemoryByEveryRankTogether) {
  test::ThreadWorld::Shared shared(2);
  const auto messages = test::run_ranks(shared, [](test::ThreadWorld& world, int rank) {
    NoSharingBackend backend;
    return refusal_of([&] { ProcessP2pCommunicator comm(backend, world, "ring", rank, {}); });
  });
  for (const auto& m : messages) EXPECT_NE(m.find("CUDA IPC"), std::string::npos) << m;
  NoSharingBackend b;
  EXPECT_THROW(b.allocate_shared(0, 64), std::invalid_argument);
}

// Real (not simulated) devices with UUIDs, as the cuda backend reports them, over the cpu
// backend's memory: `reversed` numbers them the other way round, as a process with another
// CUDA_VISIBLE_DEVICES order would.
class NamedDevicesBackend final : public TwoDeviceBackend {
 public:
  explicit NamedDevicesBackend(bool reversed) : reversed_(reversed) {}
  DeviceProperties properties(int d) const override {
    DeviceProperties p;
    p.index = d;
    p.uuid = "UUID-" + std::to_string(reversed_ ? 1 - d : d);
    return p;
  }
  bool can_share_between_processes() const override { return true; }
  SharedBuffer allocate_shared(int d, std::size_t b) override { return cpu_.allocate_shared(d, b); }
  DeviceBuffer open_shared(int d, const std::string& h, std::size_t b) override { return cpu_.open_shared(d, h, b); }
  void seal_shared(const std::string& h) override { cpu_.seal_shared(h); }
  std::unique_ptr<SignalSet> make_signals_in(void* m, std::size_t n) override { return cpu_.make_signals_in(m, n); }

 private:
  bool reversed_;
};

TEST(ProcessP2p, TwoProcessesOnOneRealDeviceAreRefusedTogether) {
  test::ThreadWorld::Shared shared(2);
  const auto messages = test::run_ranks(shared, [](test::ThreadWorld& world, int) {
    NamedDevicesBackend backend(false);
    return refusal_of([&] { ProcessP2pCommunicator comm(backend, world, "ring", 0, {}); });
  });
  for (const auto& m : messages) {
    EXPECT_NE(m.find("ranks 0 and 1 share"), std::string::npos) << m;
    EXPECT_NE(m.find("UUID-0"), std::string::npos) << m;
  }
}

TEST(ProcessP2p, RanksFindEachOthersDevicesByUuidWhateverTheLocalNumbering) {
  test::ThreadWorld::Shared shared(2);
  std::vector<std::vector<int>> devices(2);
  const auto errors = test::run_ranks(shared, [&](test::ThreadWorld& world, int rank) {
    const auto r = static_cast<std::size_t>(rank);
    bool wrong = false;
    const std::string error = test::error_of_rank(world, [&] {
      NamedDevicesBackend backend(rank == 1);  // rank 1's process numbers the devices the other way
      ProcessP2pCommunicator comm(backend, world, "direct", 0, {});  // each on its local device 0
      devices[r] = comm.devices();
      const std::size_t count = 3000;
      std::vector<std::byte> input(count * 4), output(count * 4);
      fill_allreduce_input(DType::f32, InputPattern::integers, rank, 2, input);
      auto stream = backend.make_stream(0);
      DeviceBuffer buf = backend.allocate(0, input.size());
      stream->copy_from_host(buf.data(), input.data(), input.size());
      comm.allreduce_rank(rank, DType::f32, buf.data(), buf.data(), count, *stream);
      stream->copy_to_host(output.data(), buf.data(), output.size());
      stream->synchronize();
      wrong = check_allreduce_output(DType::f32, InputPattern::integers, 2, output).wrong != 0;
    });
    return wrong ? "wrong sum" : error;
  });
  EXPECT_EQ(errors[0], "");
  EXPECT_EQ(errors[1], "");
  EXPECT_EQ(devices[0], (std::vector<int>{0, 1}));  // UUID-0 is local 0, UUID-1 local 1
  EXPECT_EQ(devices[1], (std::vector<int>{1, 0}));  // the reverse numbering
}

TEST(CpuSharedMemory, HostMemoryIsSharedWithoutNamingADevice) {
  CpuBackend owner(CpuBackendOptions{1}), peer(CpuBackendOptions{1});
  Backend::SharedBuffer shared = owner.allocate_shared(Backend::kSharedHost, 64);
  DeviceBuffer mapped = peer.open_shared(Backend::kSharedHost, shared.handle, 64);
  shared.buffer.as<std::uint64_t>()[2] = 42;
  EXPECT_EQ(mapped.as<std::uint64_t>()[2], 42u);
  owner.seal_shared(shared.handle);
  EXPECT_THROW(owner.allocate_shared(5, 64), std::invalid_argument);  // a real device must exist
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
