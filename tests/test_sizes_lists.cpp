// Flag text parsed at the CLI (bench/cli_lists.h: comma lists, the typed options' validators) and
// the rank -> device mapping (--gpus, --devices).
#include <gtest/gtest.h>

#include <optional>

#include "cli_lists.h"
#include "cli_sweep_flags.h"
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

// Typed options: CLI11 converts the value once the project's validator accepts the text; a bad value
// is one parse error naming the flag, with the range.
TEST(FlagValidators, TypedOptionsTakeGoodValuesAndNameTheFlagOtherwise) {
  auto parse = [](const std::string& args, std::optional<int>& count, double& seconds) {
    CLI::App app;
    app.add_option("--count", count)->check(int_in(0, 10));
    app.add_option("--seconds", seconds)->check(number_in(0, 5, /*above_lo=*/true));
    try {
      app.parse(args, false);
    } catch (const CLI::ParseError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  std::optional<int> count;
  double seconds = 1;
  EXPECT_EQ(parse("--count 10 --seconds 0.5", count, seconds), "");
  EXPECT_EQ(count, 10);
  EXPECT_DOUBLE_EQ(seconds, 0.5);
  for (const char* bad : {"--count x", "--count 11", "--count -1", "--count 2.5"}) {
    EXPECT_EQ(parse(bad, count, seconds).rfind("--count: ", 0), 0u) << bad;
  }
  for (const char* bad : {"--seconds 0", "--seconds 5.1", "--seconds nan", "--seconds inf", "--seconds fast"}) {
    EXPECT_EQ(parse(bad, count, seconds).rfind("--seconds: ", 0), 0u) << bad;
  }
  EXPECT_NE(parse("--seconds 0", count, seconds).find("more than 0"), std::string::npos);
}

// Core errors name settings; "{setting}" references become flags at the CLI, other braces stay.
TEST(FlagValidators, SettingReferencesBecomeFlagsAndOtherBracesStay) {
  const SettingError ref("stopping.max_iters", "2 is below {stopping.min_iters} 5");
  EXPECT_STREQ(ref.what(), "stopping.max_iters: 2 is below stopping.min_iters 5");
  EXPECT_EQ(cli::with_flags(ref.message()), "2 is below --min-iters 5");
  const SettingError json("resume", "'r.json' holds {\"a\": 1}, not a results file");
  EXPECT_STREQ(json.what(), "resume: 'r.json' holds {\"a\": 1}, not a results file");
  EXPECT_EQ(cli::with_flags(json.message()), json.message());
}

}  // namespace
}  // namespace dpb
