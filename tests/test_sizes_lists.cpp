// Comma lists and the rank -> device mapping (--gpus, --devices).
#include <gtest/gtest.h>

#include "sweep/lists.h"
#include "sweep/rank_devices.h"

namespace dpb {
namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

TEST(Lists, SplitsAndTrims) {
  EXPECT_EQ(split_list("a, b ,c", "--algo"), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(split_list("one", "--algo"), (std::vector<std::string>{"one"}));
  for (const char* bad : {"", "a,,b", "a,", ",a", " , "}) {
    EXPECT_EQ(error_of([&] { split_list(bad, "--algo"); }).rfind("--algo: ", 0), 0u) << bad;
  }
}

TEST(Lists, PositiveIntsDropDuplicatesKeepOrder) {
  EXPECT_EQ(parse_positive_int_list("4,1,2,4", "--gpus"), (std::vector<int>{4, 1, 2}));
  for (const char* bad : {"0", "-1", "x", "1,two", "2.5", "99999999999"}) {
    EXPECT_EQ(error_of([&] { parse_positive_int_list(bad, "--gpus"); }).rfind("--gpus: ", 0), 0u) << bad;
  }
}

TEST(Lists, IndexListKeepsRepeats) {
  EXPECT_EQ(parse_index_list("0,0,1,1", "--devices"), (std::vector<int>{0, 0, 1, 1}));
  EXPECT_EQ(error_of([] { parse_index_list("0,-1", "--devices"); }).rfind("--devices: ", 0), 0u);
}

TEST(Lists, ParseListPrefixesTheFlag) {
  const auto f = [](const std::string& s) -> int {
    if (s == "bad") throw std::invalid_argument("unknown thing 'bad'");
    return 1;
  };
  EXPECT_EQ(error_of([&] { parse_list<int>("ok,bad", "--algo", f); }), "--algo: unknown thing 'bad'");
}

TEST(Lists, NumbersInRange) {
  EXPECT_EQ(parse_int("12", "--warmup", 0, 100), 12);
  EXPECT_EQ(error_of([] { parse_int("101", "--warmup", 0, 100); }).rfind("--warmup: ", 0), 0u);
  EXPECT_DOUBLE_EQ(parse_double("0.5", "--max-noise", 0, 100), 0.5);
  EXPECT_EQ(error_of([] { parse_double("nan", "--max-noise", 0, 100); }).rfind("--max-noise: ", 0), 0u);
  EXPECT_EQ(error_of([] { parse_double("1e400", "--max-time", 0, 100); }).rfind("--max-time: ", 0), 0u);
}

TEST(RankDevices, DefaultDevicesAreTheFirstN) {
  RankPlan p{{1, 2, 4}, std::nullopt};
  p.validate(8);
  EXPECT_EQ(p.devices_for(4), (std::vector<int>{0, 1, 2, 3}));
}

TEST(RankDevices, ExplicitDevicesAreUsedInOrderWithRepeats) {
  RankPlan p{{1, 2, 4}, std::vector<int>{3, 3, 0, 1}};
  p.validate(4);
  EXPECT_EQ(p.devices_for(2), (std::vector<int>{3, 3}));
  EXPECT_EQ(p.devices_for(4), (std::vector<int>{3, 3, 0, 1}));
}

TEST(RankDevices, TooManyRanksNameTheRankCountSetting) {
  EXPECT_EQ(error_of([] { RankPlan{{16}, std::nullopt}.validate(8); }).rfind("gpus: ", 0), 0u);
  EXPECT_EQ(error_of([] { RankPlan{{3}, std::vector<int>{0, 1}}.validate(8); }).rfind("gpus: ", 0), 0u);
  EXPECT_EQ(error_of([] { RankPlan{{1}, std::vector<int>{0, 9}}.validate(8); }).rfind("devices: ", 0), 0u);
  EXPECT_EQ(error_of([] { RankPlan{{}, std::nullopt}.validate(8); }).rfind("gpus: ", 0), 0u);
}

}  // namespace
}  // namespace dpb
