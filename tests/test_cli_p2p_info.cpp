// `dpbench p2p --out` and `dpbench info --out` on the cpu backend: what the files hold (matrices,
// simulated devices, peers), and bad values give one error line, a non-zero exit and no file. That
// the files validate against the results schema is checked in one place, with the reference
// validator: tests/python/test_results_schema.py (jsonschema, the schema the reporting package
// ships).
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli_test_support.h"

namespace dpb {
namespace {

using json = nlohmann::json;
using testing::RunResult;

json read_json(const testing::fs::path& p) { return json::parse(testing::slurp(p)); }

class P2pFile : public testing::CliTest {
 protected:
  P2pFile() : CliTest("p2p") {}
};

class InfoFile : public testing::CliTest {
 protected:
  InfoFile() : CliTest("info") {}
};

// Each of `cases` exits 2 with one line on stderr and writes no results file.
void expect_refused(const std::vector<std::vector<std::string>>& cases,
                    const std::function<RunResult(const std::vector<std::string>&)>& run, const testing::fs::path& file) {
  for (std::vector<std::string> args : cases) {
    std::string text;
    for (const auto& a : args) text += a + " ";
    args.insert(args.end(), {"--out", file.string()});
    const RunResult r = run(args);
    EXPECT_EQ(r.rc, 2) << text;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << text << ": " << r.err;
    EXPECT_FALSE(testing::fs::exists(file)) << text;
  }
}

TEST_F(P2pFile, HoldsTheMatrices) {
  const auto file = dir_ / "p2p.json";
  const RunResult r = run({"--backend", "cpu", "--cpu-devices", "3", "--size", "64K", "--repeats", "2", "--devices",
                           "0,1,1", "--out", file.string()});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("SUM unidir_bw_p2p_enabled"), std::string::npos) << r.out;
  const json doc = read_json(file);
  EXPECT_EQ(doc["command"], "p2p");
  EXPECT_EQ(doc["invocation"]["complete"], true);
  ASSERT_EQ(doc["points"].size(), 1u);
  const json& point = doc["points"][0];
  EXPECT_EQ(point["kind"], "p2p");
  EXPECT_EQ(point["status"], "ok");
  ASSERT_EQ(point["matrices"].size(), 6u);
  for (const auto& m : point["matrices"]) {
    EXPECT_EQ(m["devices"], json::array({0, 1, 1}));
    EXPECT_EQ(m["values"].size(), 3u);
    EXPECT_TRUE(m["values"][1][1].is_null());
    EXPECT_TRUE(m["values"][1][2].is_number());  // positions 1 and 2 share device 1: a local copy
    EXPECT_TRUE(m["average"].is_number());
  }
  EXPECT_EQ(doc["system"]["peers"].size(), 2u);  // distinct devices 0 and 1, both directions
}

TEST_F(InfoFile, DescribesSimulatedDevices) {
  const auto file = dir_ / "info.json";
  const RunResult r = run({"--backend", "cpu", "--cpu-devices", "4", "--out", file.string()});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("simulated devices in host memory: not GPUs"), std::string::npos) << r.out;
  const json doc = read_json(file);
  EXPECT_EQ(doc["command"], "info");
  EXPECT_EQ(doc["system"]["backend"], "cpu");
  ASSERT_EQ(doc["system"]["devices"].size(), 4u);
  for (const auto& d : doc["system"]["devices"]) EXPECT_EQ(d["kind"], "cpu-simulated");
  EXPECT_EQ(doc["system"]["peers"].size(), 12u);
  EXPECT_TRUE(doc["points"].empty());
}

TEST_F(P2pFile, OneDeviceMeasuresCopiesWithinIt) {
  const RunResult r = run({"--backend", "cpu", "--cpu-devices", "1", "--size", "4K", "--repeats", "1"});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("0#1"), std::string::npos) << r.out;  // positions 0 and 0#1: device 0 twice
  EXPECT_NE(r.err.find("--devices 0,0"), std::string::npos) << r.err;
}

TEST_F(P2pFile, BadValuesGiveOneErrorLineAndNoFile) {
  expect_refused({{"--backend", "cpu", "--size", "-1"},
                  {"--backend", "cpu", "--size", "1X"},
                  {"--backend", "cpu", "--devices", "0,99"},
                  {"--backend", "cpu", "--repeats", "abc"},
                  {"--backend", "cpu", "--devices", "0"},
                  {"--backend", "nope"}},
                 [this](const std::vector<std::string>& a) { return run(a); }, dir_ / "bad.json");
}

TEST_F(InfoFile, BadBackendGivesOneErrorLineAndNoFile) {
  expect_refused({{"--backend", "nope"}}, [this](const std::vector<std::string>& a) { return run(a); },
                 dir_ / "bad.json");
}

}  // namespace
}  // namespace dpb
