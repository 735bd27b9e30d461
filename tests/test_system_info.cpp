// The system block: host parsers, version formatting, and the block for the cpu backend.
#include <gtest/gtest.h>

#include "device/cpu_backend.h"
#include "system/host_info.h"
#include "system/system_info.h"

namespace dpb {
namespace {

TEST(HostInfo, Parsers) {
  EXPECT_EQ(parse_os_release_pretty_name("NAME=\"Ubuntu\"\nPRETTY_NAME=\"Ubuntu 24.04.1 LTS\"\n"),
            "Ubuntu 24.04.1 LTS");
  EXPECT_FALSE(parse_os_release_pretty_name("NAME=x\n"));
  EXPECT_EQ(parse_cpuinfo_model("processor\t: 0\nmodel name\t: AMD EPYC 7B13 64-Core Processor\n"),
            "AMD EPYC 7B13 64-Core Processor");
  EXPECT_EQ(parse_cpuinfo_model("CPU implementer\t: 0x41\nCPU part\t: 0xd4f\n"), "CPU implementer 0x41 part 0xd4f");
  EXPECT_FALSE(parse_cpuinfo_model(""));
  EXPECT_EQ(parse_meminfo_total_bytes("MemTotal:       24576000 kB\nMemFree: 1 kB\n"), std::size_t{24576000} * 1024);
  EXPECT_FALSE(parse_meminfo_total_bytes("MemFree: 1 kB\n"));
}

TEST(HostInfo, ReadsThisMachine) {
  const HostInfo h = read_host_info();
  EXPECT_FALSE(h.hostname.empty());
  EXPECT_GT(h.cpu_logical_cores, 0);
  EXPECT_GT(h.memory_bytes, 0u);
  const auto j = to_json(h);
  for (const char* key : {"hostname", "cpu_model", "cpu_logical_cores", "memory_bytes"}) EXPECT_TRUE(j.contains(key));
}

TEST(SystemInfo, VersionFormatting) {
  EXPECT_EQ(format_cuda_version(13000), "13.0");
  EXPECT_EQ(format_cuda_version(12040), "12.4");
  EXPECT_EQ(format_nccl_version(22809), "2.28.9");
  EXPECT_EQ(format_nccl_version(2804), "2.8.4");
}

TEST(SystemInfo, CpuBackendDevicesAreSimulated) {
  CpuBackendOptions o;
  o.devices = 3;
  CpuBackend be(o);
  const auto sys = describe_system(be, {0, 1, 2});
  EXPECT_EQ(sys["backend"], "cpu");
  ASSERT_EQ(sys["devices"].size(), 3u);
  for (const auto& d : sys["devices"]) {
    EXPECT_EQ(d["kind"], "cpu-simulated");
    EXPECT_TRUE(d.contains("memory_bytes"));
  }
  EXPECT_EQ(sys["devices"][2]["index"], 2);
  EXPECT_TRUE(sys["runtime"].contains("nccl_version"));
  if (!cuda_compiled_in()) {
    EXPECT_TRUE(sys["runtime"]["cuda_driver_version"].is_null());
    EXPECT_TRUE(sys["runtime"]["nccl_version"].is_null());
  }
  if (sys.contains("peers")) {
    EXPECT_EQ(sys["peers"].size(), 6u);  // ordered pairs i != j
  }
}

}  // namespace
}  // namespace dpb
