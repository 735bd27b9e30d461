// The cpu backend's devices hold what the host can give: a share of MemAvailable (or a cgroup
// limit), allocations past it fail as device out-of-memory errors, and plans that cannot fit are
// refused before they run, naming the setting.
#include <gtest/gtest.h>

#include "device/cpu_backend.h"
#include "device/error.h"
#include "sweep/allreduce_plan_check.h"
#include "sweep/memory_plan.h"
#include "device/error.h"
#include "system/host_memory.h"

namespace dpb {
namespace {

TEST(HostMemory, ParsesMeminfoAndCgroupFiles) {
  EXPECT_EQ(parse_meminfo_available_bytes("MemTotal: 100 kB\nMemAvailable:   2048 kB\n"), std::size_t{2048} * 1024);
  EXPECT_FALSE(parse_meminfo_available_bytes("MemTotal: 100 kB\n"));
  EXPECT_EQ(parse_cgroup_bytes("1073741824\n"), std::size_t{1} << 30);
  EXPECT_FALSE(parse_cgroup_bytes("max\n"));
  EXPECT_FALSE(parse_cgroup_bytes(""));
}

TEST(HostMemory, SimulatedDevicesShareHalfOfWhatIsAvailable) {
  const auto avail = host_available_memory();
  ASSERT_TRUE(avail) << "this Linux host says nothing about available memory";
  const std::size_t share = default_cpu_device_memory(8);
  EXPECT_LE(share * 8, *avail / 2 + (std::size_t{1} << 20));
  CpuBackend backend(CpuBackendOptions{8, 0});
  EXPECT_GT(backend.properties(0).memory_bytes, 0u);
  EXPECT_LE(backend.properties(0).memory_bytes, *avail);
}

TEST(HostMemory, AllocationsPastTheDeviceFailAsDeviceErrors) {
  CpuBackend backend(CpuBackendOptions{2, std::size_t{1} << 20});
  DeviceBuffer half = backend.allocate(0, std::size_t{512} << 10);
  EXPECT_THROW(backend.allocate(0, std::size_t{600} << 10), DeviceError);
  EXPECT_NO_THROW(backend.allocate(1, std::size_t{600} << 10));  // another device has its own memory
}

TEST(MemoryPlan, RefusalsNameTheSetting) {
  CpuBackend backend(CpuBackendOptions{2, std::size_t{64} << 20});
  AllreducePlanShape shape{{{0, 1}}, {DType::f32}, 8, std::size_t{64} << 20, true};
  try {
    check_allreduce_plan(backend, shape);
    FAIL() << "64 MiB send + receive buffers do not fit in 64 MiB";
  } catch (const SettingError& e) {
    EXPECT_EQ(e.setting(), "max_bytes");
    EXPECT_NE(std::string(e.what()).find("128 MiB"), std::string::npos) << e.what();
  }
  shape.max_bytes = std::size_t{16} << 20;
  EXPECT_NO_THROW(check_allreduce_plan(backend, shape));
  shape.device_lists = {{0, 0, 0, 0}};  // four ranks on one device add up
  EXPECT_THROW(check_allreduce_plan(backend, shape), SettingError);
  shape.device_lists = {{0, 1}};
  shape.min_bytes = 1;
  shape.dtypes = {DType::f16};
  try {
    check_allreduce_plan(backend, shape);
    FAIL() << "1 byte holds no fp16 element";
  } catch (const SettingError& e) {
    EXPECT_EQ(e.setting(), "min_bytes");
  }
  EXPECT_EQ(format_bytes(std::size_t{3} << 30), "3.0 GiB");
  EXPECT_EQ(saturating_mul(std::size_t{1} << 40, std::size_t{1} << 40), std::numeric_limits<std::size_t>::max());
}

}  // namespace
}  // namespace dpb
