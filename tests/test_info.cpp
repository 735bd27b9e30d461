// The peers part of the system block and NVML loading: honest on the cpu backend, no crash and a
// reason where NVML is absent.
#include <gtest/gtest.h>

#include "device/cpu_backend.h"
#include "system/nvml.h"
#include "system/peers.h"

namespace dpb {
namespace {

TEST(InfoPeers, CpuBackendReportsHostMemoryPairs) {
  CpuBackend be(CpuBackendOptions{3, 1 << 20});
  const auto peers = read_peers(be, {}, nullptr);
  ASSERT_EQ(peers.size(), 6u);
  EXPECT_EQ(peers[0].src, 0);
  EXPECT_EQ(peers[0].dst, 1);
  for (const auto& p : peers) {
    EXPECT_NE(p.src, p.dst);
    EXPECT_TRUE(p.access_supported);
    EXPECT_FALSE(p.performance_rank);  // a CUDA attribute: not made up for host memory
    EXPECT_FALSE(p.native_atomics);
    ASSERT_TRUE(p.link);
    EXPECT_NE(p.link->find("host memory"), std::string::npos);
  }
  const auto j = peers_to_json(peers);
  ASSERT_EQ(j.size(), 6u);
  EXPECT_TRUE(j[0]["performance_rank"].is_null());
  for (const char* key : {"src", "dst", "access_supported", "performance_rank", "native_atomics", "link"}) {
    EXPECT_TRUE(j[0].contains(key)) << key;
  }
}

TEST(InfoPeers, RepeatedDevicesCountOncePerPair) {
  CpuBackend be(CpuBackendOptions{4, 1 << 20});
  EXPECT_EQ(read_peers(be, {0, 0, 2}, nullptr).size(), 2u);
  EXPECT_TRUE(read_peers(be, {1, 1}, nullptr).empty());
  EXPECT_THROW(read_peers(be, {0, 7}, nullptr), std::invalid_argument);
  EXPECT_EQ(describe_peers(be, {0, 1, 3}).size(), 6u);
}

TEST(InfoNvml, LoadsOrSaysWhyNot) {
  std::string why;
  auto nvml = Nvml::load(&why);
  if (nvml) {
    EXPECT_TRUE(nvml->version());
    EXPECT_EQ(nvml_version(), nvml->version());
    // A GPU NVML does not know gives no link rather than a guess.
    EXPECT_FALSE(nvml->link_between({std::string("GPU-00000000-0000-0000-0000-000000000000"), std::nullopt},
                                    {std::string("GPU-00000000-0000-0000-0000-000000000001"), std::nullopt}));
  } else {
    EXPECT_FALSE(why.empty());
    EXPECT_FALSE(nvml_version());
  }
}

}  // namespace
}  // namespace dpb
