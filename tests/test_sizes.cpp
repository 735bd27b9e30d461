// Message sizes as nccl-tests takes them (-b/-e/-f): parsing, every bad input, and the size grid.
#include <gtest/gtest.h>

#include <string>

#include "sweep/sizes.h"

namespace dpb {
namespace {

std::string error_of(std::string_view text, std::string_view flag = "-b/--minbytes") {
  try {
    parse_size(text, flag);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

TEST(Sizes, ParsesSuffixesAsPowersOfTwo) {
  EXPECT_EQ(parse_size("8", "-b"), 8u);
  EXPECT_EQ(parse_size("1K", "-b"), 1024u);
  EXPECT_EQ(parse_size("1k", "-b"), 1024u);
  EXPECT_EQ(parse_size("64KiB", "-b"), 64u << 10);
  EXPECT_EQ(parse_size("256M", "-b"), 256u << 20);
  EXPECT_EQ(parse_size("256MB", "-b"), 256u << 20);
  EXPECT_EQ(parse_size("1G", "-b"), std::size_t{1} << 30);
  EXPECT_EQ(parse_size("3g", "-b"), std::size_t{3} << 30);
  EXPECT_EQ(parse_size(" 16 ", "-b"), 16u);
  EXPECT_EQ(parse_size("100B", "-b"), 100u);
}

TEST(Sizes, EveryBadInputNamesTheFlag) {
  for (const char* bad : {"0", "0K", "-1", "-8M", "", "  ", "abc", "1.5K", "12Q", "K", "1KK", "8 M x",
                          "99999999999999999999", "17179869184G", "0x10"}) {
    const std::string msg = error_of(bad, "-e/--maxbytes");
    EXPECT_EQ(msg.rfind("-e/--maxbytes: ", 0), 0u) << "input '" << bad << "' gave: " << msg;
  }
  EXPECT_NE(error_of("0").find("not a positive size"), std::string::npos);
  EXPECT_NE(error_of("-4").find("negative"), std::string::npos);
  EXPECT_NE(error_of("7X").find("unknown suffix"), std::string::npos);
}

TEST(Sizes, FormatsExactMultiples) {
  EXPECT_EQ(format_size(8), "8");
  EXPECT_EQ(format_size(1024), "1K");
  EXPECT_EQ(format_size(1536), "1536");
  EXPECT_EQ(format_size(64u << 20), "64M");
  EXPECT_EQ(format_size(std::size_t{2} << 30), "2G");
}

TEST(Sizes, GridStepsLikeNcclTests) {
  SizeRange r{8, 128, 2};
  EXPECT_EQ(r.sizes(), (std::vector<std::size_t>{8, 16, 32, 64, 128}));
  r = {1024, 1024, 2};
  EXPECT_EQ(r.sizes(), (std::vector<std::size_t>{1024}));
  r = {1000, 100000, 10};
  EXPECT_EQ(r.sizes(), (std::vector<std::size_t>{1000, 10000, 100000}));
  r = {8, 100, 4};  // 8, 32, 128 > 100: stop at 32
  EXPECT_EQ(r.sizes(), (std::vector<std::size_t>{8, 32}));
  r = {1, std::numeric_limits<std::size_t>::max(), 2};  // no overflow at the top
  EXPECT_EQ(r.sizes().size(), 64u);
}

TEST(Sizes, RangeErrorsNameTheSetting) {
  auto msg = [](SizeRange r) {
    try {
      r.validate();
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_EQ(msg({1024, 8, 2}).rfind("max_bytes: ", 0), 0u);
  EXPECT_EQ(msg({8, 1024, 1}).rfind("factor: ", 0), 0u);
  EXPECT_EQ(msg({8, 1024, 2}), "");
}

TEST(Sizes, StepFactorParsing) {
  EXPECT_EQ(parse_step_factor("2", "-f"), 2u);
  EXPECT_EQ(parse_step_factor("10", "-f"), 10u);
  for (const char* bad : {"1", "0", "-2", "1.5", "two", ""}) {
    EXPECT_THROW(parse_step_factor(bad, "-f"), std::invalid_argument) << bad;
  }
}

TEST(Sizes, ElementCountRoundsDown) {
  EXPECT_EQ(element_count(1024, 4), 256u);
  EXPECT_EQ(element_count(10, 4), 2u);
  EXPECT_EQ(element_count(1, 2), 0u);
}

}  // namespace
}  // namespace dpb
