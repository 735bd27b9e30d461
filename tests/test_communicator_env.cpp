// The environment NCCL reads at communicator init (core/collectives/communicator_env.h): values
// are only replaced, never added or removed after process start; forced algorithms and the
// multi-rank-GPU setting are decided as NCCL parses them. Runs without NCCL or a GPU. (Test names
// avoid "nccl": the cpu set filters such names out.)
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "collectives/communicator_env.h"

namespace dpb {
namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "<unset>";
}

TEST(CommunicatorEnv, BothVariablesExistFromProcessStart) {
  EXPECT_NE(std::getenv("NCCL_ALGO"), nullptr);
  EXPECT_NE(std::getenv("NCCL_MULTI_RANK_GPU_ENABLE"), nullptr);
}

TEST(CommunicatorEnv, ScopedValueReplacesAndRestoresWithoutRemoving) {
  ::setenv("DPBENCH_TEST_SCOPED_ENV", "before", 1);
  {
    ScopedEnvValue v("DPBENCH_TEST_SCOPED_ENV", "during");
    EXPECT_EQ(env("DPBENCH_TEST_SCOPED_ENV"), "during");
  }
  EXPECT_EQ(env("DPBENCH_TEST_SCOPED_ENV"), "before");
  ::setenv("DPBENCH_TEST_SCOPED_ENV", "", 1);
  { ScopedEnvValue v("DPBENCH_TEST_SCOPED_ENV", "Ring"); }
  EXPECT_EQ(env("DPBENCH_TEST_SCOPED_ENV"), "");  // still there, empty
}

TEST(CommunicatorEnv, ScopedValueRefusesToAddAVariable) {
  ::unsetenv("DPBENCH_TEST_ABSENT_ENV");
  try {
    ScopedEnvValue v("DPBENCH_TEST_ABSENT_ENV", "x");
    FAIL() << "expected a refusal";
  } catch (const std::logic_error& e) {
    EXPECT_NE(std::string(e.what()).find("process start"), std::string::npos) << e.what();
  }
  EXPECT_EQ(env("DPBENCH_TEST_ABSENT_ENV"), "<unset>");
}

TEST(CommunicatorEnv, EnsureExistsAddsEmptyAndKeepsAValue) {
  ::unsetenv("DPBENCH_TEST_ENSURE_ENV");
  ensure_env_exists("DPBENCH_TEST_ENSURE_ENV");
  EXPECT_EQ(env("DPBENCH_TEST_ENSURE_ENV"), "");
  ::setenv("DPBENCH_TEST_ENSURE_ENV", "Tree", 1);
  ensure_env_exists("DPBENCH_TEST_ENSURE_ENV");
  EXPECT_EQ(env("DPBENCH_TEST_ENSURE_ENV"), "Tree");
}

TEST(CommunicatorEnv, IntegerParameterIsReadAsNcclDoes) {
  EXPECT_FALSE(nccl_int_param_on(""));  // empty: the default, 0
  EXPECT_FALSE(nccl_int_param_on("0"));
  EXPECT_TRUE(nccl_int_param_on("1"));
  EXPECT_TRUE(nccl_int_param_on("0x2"));
  EXPECT_FALSE(nccl_int_param_on("no"));  // strtoll reads 0
}

TEST(CommunicatorEnv, RingAndTreeAreForcedAndAutoKeepsTheUsersChoice) {
  const NcclInitEnvironment none(std::nullopt, std::nullopt);
  EXPECT_EQ(none.values_for("ring", false).algo, "Ring");
  EXPECT_EQ(none.values_for("tree", false).algo, "Tree");
  EXPECT_EQ(none.values_for("auto", false).algo, "");  // empty: NCCL's own choice
  EXPECT_EQ(none.resting().algo, "");
  const NcclInitEnvironment user(std::string("NVLS"), std::string("1"));
  EXPECT_EQ(user.values_for("ring", false).algo, "Ring");
  EXPECT_EQ(user.values_for("auto", false).algo, "NVLS");
  EXPECT_EQ(user.resting().algo, "NVLS");
  EXPECT_EQ(user.resting().multi_rank_gpu, "1");
  EXPECT_THROW((void)none.values_for("direct", false), std::invalid_argument);
}

TEST(CommunicatorEnv, MultiRankGpuAfterAnInitThatCachedOffIsRefused) {
  NcclInitEnvironment e(std::nullopt, std::nullopt);
  EXPECT_EQ(e.values_for("ring", true).multi_rank_gpu, "1");  // nothing cached yet
  e.initialised_with(e.values_for("ring", false));            // NCCL caches 0
  EXPECT_EQ(e.values_for("ring", false).multi_rank_gpu, "");
  try {
    (void)e.values_for("ring", true);
    FAIL() << "expected a refusal";
  } catch (const std::invalid_argument& ex) {
    EXPECT_NE(std::string(ex.what()).find("NCCL_MULTI_RANK_GPU_ENABLE"), std::string::npos) << ex.what();
  }
  NcclInitEnvironment on_first(std::nullopt, std::nullopt);
  on_first.initialised_with(on_first.values_for("tree", true));  // cached 1: later inits are fine
  EXPECT_EQ(on_first.values_for("tree", true).multi_rank_gpu, "1");
  NcclInitEnvironment user_on(std::nullopt, std::string("1"));
  user_on.initialised_with(user_on.values_for("auto", false));
  EXPECT_EQ(user_on.values_for("auto", true).multi_rank_gpu, "1");
}

TEST(CommunicatorEnv, AnInitSeesItsValuesAndTheRestingOnesComeBackAlsoAfterAnError) {
  const std::string resting = env("NCCL_ALGO");
  std::string seen;
  run_nccl_init("tree", false, [&] { seen = env("NCCL_ALGO"); });
  EXPECT_EQ(seen, "Tree");
  EXPECT_EQ(env("NCCL_ALGO"), resting);
  EXPECT_THROW(run_nccl_init("ring", false, [] { throw std::runtime_error("init failed"); }), std::runtime_error);
  EXPECT_EQ(env("NCCL_ALGO"), resting);
  run_nccl_init("auto", false, [&] { seen = env("NCCL_ALGO"); });
  EXPECT_EQ(seen, resting);
}

// Readers on other threads while inits change the value: every read sees a whole value (the
// variable never disappears). Counted, not timed.
TEST(CommunicatorEnv, ReadersOnOtherThreadsAlwaysSeeAValue) {
#if defined(__SANITIZE_THREAD__)
  // glibc's setenv publishes a new, never-freed string with a plain pointer store, which is what
  // NCCL's readers rely on; ThreadSanitizer rightly sees no happens-before there and reports it.
  GTEST_SKIP() << "not run under ThreadSanitizer: the property is glibc's pointer-store publication, "
                  "which is unsynchronised by design (the plain build runs this test)";
#endif
  const std::string resting = env("NCCL_ALGO");
  std::atomic<bool> done{false};
  std::atomic<int> bad{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 2; ++t) {
    readers.emplace_back([&] {
      while (!done.load()) {
        const std::string v = env("NCCL_ALGO");
        if (v != resting && v != "Ring" && v != "Tree") bad.fetch_add(1);
      }
    });
  }
  for (int i = 0; i < 2000; ++i) run_nccl_init(i % 2 ? "ring" : "tree", false, [] {});
  done = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ(env("NCCL_ALGO"), resting);
}

}  // namespace
}  // namespace dpb
