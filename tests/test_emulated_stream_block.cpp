// The stream-blocking kernel (kernels/stream_block_body.h) under the CUDA emulation: it returns on
// release, counts a timeout when never released, and counts every one of several kernels that
// time out together (the count is an atomic add on the shared host-mapped flags).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "emulated_kernels.h"
#include "stream_block_launch.h"

namespace dpb {
namespace {

using cuda_kernels::StreamBlockFlags;
using namespace std::chrono_literals;

constexpr std::uint64_t kLongTimeoutNs = 60'000'000'000;  // a minute: never reached in a passing test

std::uint32_t read(volatile std::uint32_t& v) {
  return std::atomic_ref<std::uint32_t>(const_cast<std::uint32_t&>(v)).load();
}
void write(volatile std::uint32_t& v, std::uint32_t x) {
  std::atomic_ref<std::uint32_t>(const_cast<std::uint32_t&>(v)).store(x);
}

TEST(EmulatedStreamBlock, AnEarlierReleaseLetsTheHoldThroughAtOnce) {
  StreamBlockFlags flags{};
  write(flags.released, 3);
  const auto start = std::chrono::steady_clock::now();
  emulated::stream_block(&flags, 2, kLongTimeoutNs);  // hold 2 was released by the release of hold 3
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
  EXPECT_EQ(read(flags.timeouts), 0u);
}

TEST(EmulatedStreamBlock, SpinsUntilReleased) {
  StreamBlockFlags flags{};
  std::atomic<bool> returned{false};
  std::thread host([&] {
    std::this_thread::sleep_for(20ms);
    EXPECT_FALSE(returned.load()) << "the kernel returned before its release";
    write(flags.released, 1);
  });
  emulated::stream_block(&flags, 1, kLongTimeoutNs);
  returned = true;
  host.join();
  EXPECT_EQ(read(flags.timeouts), 0u);
}

TEST(EmulatedStreamBlock, AnUnreleasedHoldTimesOutAndIsCounted) {
  StreamBlockFlags flags{};
  write(flags.timeouts, 5);
  emulated::stream_block(&flags, 1, 2'000'000);  // 2 ms
  EXPECT_EQ(read(flags.timeouts), 6u);
}

TEST(EmulatedStreamBlock, ConcurrentTimeoutsAreAllCounted) {
  StreamBlockFlags flags{};
  emulated::stream_block(&flags, 1, 2'000'000, 64);
  EXPECT_EQ(read(flags.timeouts), 64u);
}

}  // namespace
}  // namespace dpb
