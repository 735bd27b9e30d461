// All-reduce conformance: every algorithm on every backend produces the exact sum (or one within
// the dtype's argued tolerance, allreduce_check.h) on every rank, for every element count (0, 1,
// fewer than ranks, not divisible by ranks, large), dtype, rank count 1..8, in place and out of
// place, and never writes the send buffer out of place; cases of two calls run the second with a
// host thread per rank.
//
// Parameterised over backend x algorithm x ranks x count x dtype x placement. The cpu instance
// always runs; the Cuda instance (labelled gpu) skips with a message where no GPU is visible and
// adds the NCCL algorithms. Sizes are chosen so the whole suite stays within seconds (and within
// a minute under TSan): the full cross product runs on small counts with tiny chunks (many chunks,
// slots reused), the ~1M and ~4M counts on a few representative combinations.
#include <gtest/gtest.h>

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

namespace dpb {
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

struct Case {
  BackendKind backend = BackendKind::cpu;
  std::string algo;
  int ranks = 1;
  std::size_t count = 0;
  DType type = DType::f32;
  bool in_place = false;
  bool shared_devices = false;  // all ranks on device 0
  InputPattern pattern = InputPattern::integers;
  CommunicatorOptions options;
  int calls = 1;  // back-to-back calls on the same buffers (inputs refilled in between)
};

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

// gtest prints a parameter through PrintTo; without it ctest lists every case as a byte dump.
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

class AllreduceConformance : public ::testing::TestWithParam<Case> {};

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
TEST(AllreduceCheck, ExactForIntegersAndCatchesWrongElements) {
  for (DType type : kAllDTypes) {
    const int n = 8;
    const std::size_t count = 4096;
    const AllreduceReference ref(type, InputPattern::integers, n, 100, count);
    // Sum the inputs the way a backend does: fp32 adds, rounded to the dtype after each.
    std::vector<std::vector<std::byte>> in(n, std::vector<std::byte>(count * dtype_size(type)));
    for (int r = 0; r < n; ++r) fill_allreduce_input(type, InputPattern::integers, r, n, in[static_cast<std::size_t>(r)], 100);
    std::vector<std::byte> out = in[0];
    for (int r = 1; r < n; ++r) cpu::reduce_add(type, out.data(), in[static_cast<std::size_t>(r)].data(), count);
    CheckResult ok = ref.check(out);
    EXPECT_EQ(ok.wrong, 0u) << dtype_name(type);
    EXPECT_EQ(ok.tolerance, 0.0);
    EXPECT_EQ(ok.max_abs_error, 0.0);
    // Drop one rank's contribution from a stretch of elements: caught wherever it was non-zero.
    std::vector<std::byte> bad = in[0];
    for (int r = 1; r < n - 1; ++r) cpu::reduce_add(type, bad.data(), in[static_cast<std::size_t>(r)].data(), count);
    const CheckResult missing = ref.check(bad);
    EXPECT_GT(missing.wrong, count * 9 / 10) << dtype_name(type);
    // A NaN is wrong, and its error is infinite.
    cpu::fill(type, out.data(), 1, std::numeric_limits<double>::quiet_NaN());
    const CheckResult nan = ref.check(out);
    EXPECT_EQ(nan.wrong, 1u);
    EXPECT_TRUE(std::isinf(nan.max_abs_error));
  }
}

TEST(AllreduceCheck, FractionToleranceCoversRoundingButNotMore) {
  for (DType type : {DType::f16, DType::bf16}) {
    const int n = 8;
    const std::size_t count = 20000;
    const AllreduceReference ref(type, InputPattern::fractions, n, 0, count);
    std::vector<std::vector<std::byte>> in(n, std::vector<std::byte>(count * dtype_size(type)));
    for (int r = 0; r < n; ++r) fill_allreduce_input(type, InputPattern::fractions, r, n, in[static_cast<std::size_t>(r)]);
    // Two summation orders: both must pass, and both must actually round somewhere.
    for (bool reverse : {false, true}) {
      std::vector<std::byte> out = in[reverse ? n - 1 : 0];
      for (int k = 1; k < n; ++k) {
        cpu::reduce_add(type, out.data(), in[static_cast<std::size_t>(reverse ? n - 1 - k : k)].data(), count);
      }
      const CheckResult res = ref.check(out);
      EXPECT_EQ(res.wrong, 0u) << dtype_name(type) << " max error " << res.max_abs_error;
      EXPECT_GT(res.max_abs_error, 0.0) << "the fractions pattern should make " << dtype_name(type) << " round";
      EXPECT_GT(res.tolerance, 0.0);
      // One element n ulp off (more than the n-1 roundings allow) is wrong.
      std::size_t i = 0;
      while (ref.expected(i) < 1.0) ++i;
      const double off = ref.expected(i) + n * dtype_ulp(type, ref.expected(i));
      cpu::fill(type, out.data() + i * dtype_size(type), 1, off);
      EXPECT_EQ(ref.check(out).wrong, 1u) << dtype_name(type);
    }
    EXPECT_EQ(dtype_ulp(type, 0.0), 0.0);
    EXPECT_EQ(allreduce_tolerance(type, InputPattern::fractions, n, 200.0), 7 * dtype_ulp(type, 200.0));
  }
  EXPECT_EQ(dtype_ulp(DType::bf16, 200.0), 1.0);     // bf16 has 8 significant bits: [128, 256) steps by 1
  EXPECT_EQ(dtype_ulp(DType::f16, 200.0), 0.125);    // fp16 has 11
  EXPECT_EQ(dtype_ulp(DType::f32, 1.0), 0x1p-23);
}

INSTANTIATE_TEST_SUITE_P(Cpu, AllreduceConformance, ::testing::ValuesIn(make_cases(BackendKind::cpu)),
                         [](const auto& tp) { return case_name(tp.param); });
INSTANTIATE_TEST_SUITE_P(Cuda, AllreduceConformance, ::testing::ValuesIn(make_cases(BackendKind::cuda)),
                         [](const auto& tp) { return case_name(tp.param); });

}  // namespace
}  // namespace dpb
