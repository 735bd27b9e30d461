// The all-reduce conformance cases and test (allreduce_conformance.h); linked into both test
// binaries, each instantiating it for its backend.
#include "allreduce_conformance.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include "collectives/allreduce_check.h"
#include "collectives/communicator.h"
#include "device/backend.h"
#include "device/cpu_elementwise.h"

namespace dpb::test {
namespace {


// Sanitizers slow host loops ~10x; the large counts shrink there (still odd, still pipelined).
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer) || __has_feature(address_sanitizer)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
#else
constexpr bool kSanitized = false;
#endif
constexpr std::size_t kMediumCount = kSanitized ? 100003 : 1000003;                       // prime
constexpr std::size_t kLargeCount = kSanitized ? (std::size_t{1} << 18) + 3 : (std::size_t{1} << 22) + 3;

}  // namespace

std::string case_name(const Case& c) {
  std::string name = c.algo + "_" + std::to_string(c.ranks) + "ranks_" + std::to_string(c.count) + "_" +
                     std::string(dtype_name(c.type)) + (c.in_place ? "_inplace" : "_outofplace");
  if (c.shared_devices) name += "_onedevice";
  if (c.pattern == InputPattern::fractions) name += "_fractions";
  for (char& ch : name) {
    if (ch == '-') ch = '_';
  }
  return name;
}

void PrintTo(const Case& c, std::ostream* os) { *os << case_name(c); }

std::vector<Case> make_cases(BackendKind backend) {
  std::vector<std::string> algos{"p2p-ring", "p2p-tree", "p2p-direct"};
  if (backend == BackendKind::cuda) algos.insert(algos.end(), {"nccl-ring", "nccl-tree", "nccl-auto"});
  std::vector<Case> cases;
  // Full cross product on small counts; chunks of 3 (or 32) elements and 1-2 slots make every
  // schedule pipeline through many chunks and reuse its slots.
  for (const auto& algo : algos) {
    for (int n = 1; n <= 8; ++n) {
      std::vector<std::size_t> counts{0, 1};
      for (std::size_t c : {static_cast<std::size_t>(n - 1), static_cast<std::size_t>(2 * n + 1), std::size_t{997}}) {
        if (c > 1) counts.push_back(c);
      }
      for (std::size_t count : counts) {
        for (DType type : kAllDTypes) {
          for (bool in_place : {false, true}) {
            Case c;
            c.backend = backend;
            c.algo = algo;
            c.ranks = n;
            c.count = count;
            c.type = type;
            c.in_place = in_place;
            c.pattern = count == static_cast<std::size_t>(2 * n + 1) ? InputPattern::fractions : InputPattern::integers;
            c.shared_devices = algo.starts_with("p2p") && n == 4 && count == 997;
            c.options.chunk_bytes = (count < 100 ? 3 : 32) * dtype_size(type);
            c.options.pipeline_slots = 1 + (n % 2);
            c.calls = 2;
            cases.push_back(c);
          }
        }
      }
    }
  }
  // ~1M elements (prime: no rank count divides it), a few dtype/placement pairs.
  const std::pair<DType, bool> medium[] = {{DType::f32, false}, {DType::f16, true}, {DType::bf16, false}};
  for (const auto& algo : algos) {
    for (int n : {3, 8}) {
      for (const auto& [type, in_place] : medium) {
        Case c;
        c.backend = backend;
        c.algo = algo;
        c.ranks = n;
        c.count = kMediumCount;
        c.type = type;
        c.in_place = in_place;
        c.pattern = type == DType::bf16 ? InputPattern::fractions : InputPattern::integers;
        c.options.chunk_bytes = 64 << 10;
        cases.push_back(c);
      }
    }
    // ~4M elements with the default options (1 MiB chunks).
    Case c;
    c.backend = backend;
    c.algo = algo;
    c.ranks = 4;
    c.count = kLargeCount;
    c.type = DType::bf16;
    c.in_place = true;
    cases.push_back(c);
  }
  return cases;
}

TEST_P(AllreduceConformance, EveryRankGetsTheSum) {
  const Case& c = GetParam();
  std::unique_ptr<Backend> backend;
  std::vector<int> devices(static_cast<std::size_t>(c.ranks), 0);
  if (c.backend == BackendKind::cuda) {
    const int gpus = visible_cuda_devices();
    if (gpus == 0) GTEST_SKIP() << "no CUDA device visible";
    if (c.algo.starts_with("nccl") && c.ranks > gpus) {
      GTEST_SKIP() << c.algo << " needs " << c.ranks << " distinct GPUs, " << gpus << " visible";
    }
    for (int r = 0; r < c.ranks; ++r) devices[static_cast<std::size_t>(r)] = r % gpus;
    backend = make_backend(BackendKind::cuda);
  } else {
    CpuBackendOptions cpu;
    cpu.devices = 8;
    backend = make_backend(BackendKind::cpu, cpu);
    for (int r = 0; r < c.ranks; ++r) devices[static_cast<std::size_t>(r)] = c.shared_devices ? 0 : r;
  }
  auto comm = make_communicator(*backend, parse_algorithm(c.algo), devices, c.options);
  ASSERT_EQ(comm->ranks(), c.ranks);

  const auto un = static_cast<std::size_t>(c.ranks);
  const std::size_t bytes = c.count * dtype_size(c.type);
  std::vector<std::unique_ptr<Stream>> owned;
  std::vector<Stream*> streams;
  std::vector<DeviceBuffer> send_bufs, recv_bufs;
  std::vector<const void*> send;
  std::vector<void*> recv;
  std::vector<std::vector<std::byte>> inputs(un, std::vector<std::byte>(bytes));
  for (std::size_t r = 0; r < un; ++r) {
    owned.push_back(backend->make_stream(devices[r]));
    streams.push_back(owned.back().get());
    send_bufs.push_back(backend->allocate(devices[r], bytes));
    if (!c.in_place) recv_bufs.push_back(backend->allocate(devices[r], bytes));
    send.push_back(send_bufs.back().data());
    recv.push_back(c.in_place ? send_bufs.back().data() : recv_bufs.back().data());
    fill_allreduce_input(c.type, c.pattern, static_cast<int>(r), c.ranks, inputs[r]);
  }
  const AllreduceReference reference(c.type, c.pattern, c.ranks, 0, c.count);

  for (int call = 0; call < c.calls; ++call) {
    SCOPED_TRACE("call " + std::to_string(call + 1));
    for (std::size_t r = 0; r < un; ++r) {
      if (bytes == 0) continue;
      streams[r]->copy_from_host(send_bufs[r].data(), inputs[r].data(), bytes);
      // Out of place, poison the output so an element nobody wrote is caught.
      if (!c.in_place) streams[r]->fill(c.type, recv[r], c.count, std::numeric_limits<double>::quiet_NaN());
    }
    // Odd-numbered calls run with a host thread per rank (Communicator::allreduce_rank), even ones
    // from one thread, so every case covers both launch modes and a switch between them.
    if (call % 2 == 1 && c.ranks > 1) {
      std::vector<std::thread> threads;
      for (std::size_t r = 0; r < un; ++r) {
        threads.emplace_back([&, r] { comm->allreduce_rank(static_cast<int>(r), c.type, send[r], recv[r], c.count, *streams[r]); });
      }
      for (auto& t : threads) t.join();
    } else {
      comm->allreduce(c.type, send, recv, c.count, streams);
    }
    CheckResult total;
    std::vector<std::byte> host(bytes);
    for (std::size_t r = 0; r < un && bytes > 0; ++r) {
      streams[r]->copy_to_host(host.data(), recv[r], bytes);
      streams[r]->synchronize();
      const CheckResult one = reference.check(host);
      EXPECT_EQ(one.wrong, 0u) << "rank " << r << ": " << one.wrong << " of " << one.checked
                               << " elements wrong, max |error| " << one.max_abs_error << " (tolerance "
                               << one.tolerance << ")";
      total.merge(one);
      if (!c.in_place) {
        streams[r]->copy_to_host(host.data(), send[r], bytes);
        streams[r]->synchronize();
        EXPECT_TRUE(std::memcmp(host.data(), inputs[r].data(), bytes) == 0)
            << "rank " << r << "'s send buffer was modified out of place";
      }
    }
    for (Stream* st : streams) st->synchronize();
    EXPECT_EQ(total.checked, c.count * un);
  }
}

// The checker must be able to fail, and its tolerance must cover a real reduction's rounding.
}  // namespace dpb::test
