// The p2p bandwidth/latency matrices on the cpu backend: matrix shape and statistics, peer-access
// passes, repeated devices, the stream gate, the results record, and bad options.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <sstream>
#include <string>
#include <thread>

#include "device/cpu_backend.h"
#include "p2p/p2p_bench.h"
#include "p2p/p2p_matrix.h"
#include "p2p/p2p_record.h"
#include "device/stream_gate.h"

namespace dpb {
namespace {

P2POptions small_options(std::vector<int> devices) {
  P2POptions o;
  o.devices = std::move(devices);
  o.bytes = 64 << 10;
  o.repeats = 2;
  o.latency_repeats = 10;
  return o;
}

TEST(DeviceMatrix, StatisticsCoverMeasuredEntriesOnly) {
  DeviceMatrix m = DeviceMatrix::empty("unidir_bw_p2p_enabled", "GB/s", "test", {0, 1, 2});
  EXPECT_EQ(m.measured(), 0u);
  EXPECT_FALSE(m.sum());
  EXPECT_FALSE(m.average());
  m.values[0][1] = 2.0;
  m.values[1][0] = 4.0;
  m.values[2][1] = 9.0;
  EXPECT_EQ(m.measured(), 3u);
  EXPECT_DOUBLE_EQ(*m.sum(), 15.0);
  EXPECT_DOUBLE_EQ(*m.min(), 2.0);
  EXPECT_DOUBLE_EQ(*m.max(), 9.0);
  EXPECT_DOUBLE_EQ(*m.average(), 5.0);
}

TEST(DeviceMatrix, JsonRoundTripKeepsNullsAndShape) {
  DeviceMatrix m = DeviceMatrix::empty("latency_p2p_disabled", "us", "test", {0, 0});
  m.values[0][1] = 1.2345678;
  const auto j = m.to_json();
  EXPECT_TRUE(j["values"][0][0].is_null());
  EXPECT_TRUE(j["values"][1][0].is_null());
  EXPECT_DOUBLE_EQ(j["values"][0][1].get<double>(), 1.23457);  // 6 significant digits
  EXPECT_DOUBLE_EQ(j["sum"].get<double>(), 1.23457);
  const DeviceMatrix back = DeviceMatrix::from_json(j);
  EXPECT_EQ(back.devices, m.devices);
  EXPECT_EQ(back.measured(), 1u);
  nlohmann::json bad = j;
  bad["values"][1] = nlohmann::json::array({1.0});
  EXPECT_THROW(DeviceMatrix::from_json(bad), std::invalid_argument);
}

TEST(DeviceMatrix, FormatsLikeNvbandwidth) {
  DeviceMatrix m = DeviceMatrix::empty("unidir_bw_p2p_enabled", "GB/s", "test", {0, 0, 1});
  m.values[0][1] = 10.0;
  m.values[2][0] = 30.0;
  const std::string text = format_matrix(m);
  EXPECT_NE(text.find("N/A"), std::string::npos) << text;
  EXPECT_NE(text.find("0#1"), std::string::npos) << text;  // the repeated device is told apart
  EXPECT_NE(text.find("SUM unidir_bw_p2p_enabled 40.00"), std::string::npos) << text;
  EXPECT_NE(text.find("average 20.00"), std::string::npos) << text;
}

TEST(P2PBench, MeasuresSixMatricesOnTheCpuBackend) {
  CpuBackend be(CpuBackendOptions{3, std::size_t{1} << 28});
  const P2PResult r = run_p2p(be, small_options({0, 1, 2}));
  EXPECT_TRUE(r.problems.empty()) << r.problems.front();
  ASSERT_EQ(r.matrices.size(), 6u);
  const char* names[] = {"unidir_bw_p2p_disabled", "unidir_bw_p2p_enabled", "bidir_bw_p2p_disabled",
                         "bidir_bw_p2p_enabled",   "latency_p2p_disabled",  "latency_p2p_enabled"};
  for (std::size_t k = 0; k < 6; ++k) {
    const DeviceMatrix& m = r.matrices[k];
    EXPECT_EQ(m.name, names[k]);
    EXPECT_EQ(m.unit, k >= 4 ? "us" : "GB/s");
    EXPECT_NE(m.description.find("same path"), std::string::npos) << m.description;
    ASSERT_EQ(m.values.size(), 3u);
    for (std::size_t i = 0; i < 3; ++i) {
      ASSERT_EQ(m.values[i].size(), 3u);
      for (std::size_t j = 0; j < 3; ++j) {
        if (i == j) {
          EXPECT_FALSE(m.values[i][j]) << m.name << " diagonal";
        } else {
          ASSERT_TRUE(m.values[i][j]) << m.name << " " << i << "->" << j;
          EXPECT_GT(*m.values[i][j], 0.0);
          EXPECT_TRUE(std::isfinite(*m.values[i][j]));
        }
      }
    }
    EXPECT_EQ(m.measured(), 6u);
  }
}

TEST(P2PBench, RepeatedDevicesMeasureDeviceLocalCopies) {
  CpuBackend be(CpuBackendOptions{1, std::size_t{1} << 28});
  const P2PResult r = run_p2p(be, small_options({0, 0}));
  EXPECT_TRUE(r.problems.empty());
  ASSERT_EQ(r.matrices.size(), 6u);
  EXPECT_TRUE(r.matrices[0].values[0][1]);
  EXPECT_TRUE(r.matrices[0].values[1][0]);
  EXPECT_NE(r.matrices[0].description.find("device-local"), std::string::npos);
}

TEST(P2PBench, SizesBelowTheLatencyCopyStillWork) {
  CpuBackend be(CpuBackendOptions{2, std::size_t{1} << 20});
  P2POptions o = small_options({0, 1});
  o.bytes = 3;  // smaller than one float and than the 16-byte latency copy
  const P2PResult r = run_p2p(be, o);
  EXPECT_TRUE(r.problems.empty()) << r.problems.front();
  EXPECT_EQ(r.matrices[0].measured(), 2u);
}

TEST(P2PBench, RejectsBadOptionsNamingTheSetting) {
  CpuBackend be(CpuBackendOptions{2, std::size_t{1} << 20});
  auto message = [&](P2POptions o) {
    try {
      validate(o, be);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(message(small_options({0})).rfind("devices: ", 0), 0u);
  EXPECT_EQ(message(small_options({0, 2})).rfind("devices: device 2 does not exist", 0), 0u);
  EXPECT_EQ(message(small_options({-1, 0})).rfind("devices: ", 0), 0u);
  P2POptions zero = small_options({0, 1});
  zero.bytes = 0;
  EXPECT_EQ(message(zero).rfind("bytes: ", 0), 0u);
  P2POptions many = small_options({0, 1});
  many.repeats = P2POptions::kMaxRepeats + 1;
  EXPECT_EQ(message(many).rfind("repeats: ", 0), 0u);
  EXPECT_EQ(message(small_options({0, 1})), "no error");
}

TEST(P2PBench, OutOfMemoryFailsBeforeMeasuring) {
  CpuBackend be(CpuBackendOptions{2, std::size_t{1} << 16});
  P2POptions o = small_options({0, 1});
  o.bytes = std::size_t{1} << 20;
  EXPECT_ANY_THROW(run_p2p(be, o));
}

TEST(P2PRecord, OnePointWithMatricesAndAStableId) {
  CpuBackend be(CpuBackendOptions{2, std::size_t{1} << 24});
  const P2POptions o = small_options({0, 1});
  P2PResult r = run_p2p(be, o);
  PointRecord rec = p2p_point_record(o, r, "2024-01-01T00:00:00Z", 0.5);
  EXPECT_EQ(rec.id, "p2p/devices=0,1/bytes=65536/repeats=2");
  EXPECT_EQ(rec.kind, "p2p");
  EXPECT_EQ(rec.status, PointStatus::ok);
  const auto j = rec.to_json();
  ASSERT_TRUE(j.contains("matrices"));
  EXPECT_EQ(j["matrices"].size(), 6u);
  EXPECT_EQ(j["axes"]["devices"], nlohmann::json::array({0, 1}));
  r.problems.push_back("latency_p2p_enabled 0->1: broken");
  rec = p2p_point_record(o, r, "2024-01-01T00:00:00Z", 0.5);
  EXPECT_EQ(rec.status, PointStatus::failed);
  ASSERT_TRUE(rec.reason);
  EXPECT_NE(rec.reason->find("broken"), std::string::npos);
}

TEST(StreamGate, HoldsTheCpuStreamUntilReleased) {
  CpuBackend be(CpuBackendOptions{1, 1 << 20});
  auto s = be.make_stream(0);
  auto gate = be.make_stream_gate();
  auto buf = be.allocate(0, 4);
  float value = 0;
  gate->hold(*s);
  s->fill(DType::f32, buf.data(), 1, 7.0);
  s->copy_to_host(&value, buf.data(), 4);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_FALSE(s->query());
  EXPECT_EQ(value, 0.0f);
  gate->release();
  s->synchronize();
  EXPECT_EQ(value, 7.0f);
  EXPECT_EQ(gate->timeouts(), 0u);
  gate->hold(*s);  // a second hold after a release is a new generation
  gate->release();
  s->synchronize();
  EXPECT_EQ(gate->timeouts(), 0u);
}

TEST(StreamGate, TimesOutInsteadOfHanging) {
  CpuBackend be(CpuBackendOptions{1, 1 << 20});
  auto s = be.make_stream(0);
  auto gate = be.make_stream_gate(std::chrono::milliseconds(20));
  gate->hold(*s);
  s->synchronize();  // nobody releases: the hold ends by its timeout
  EXPECT_EQ(gate->timeouts(), 1u);
  EXPECT_THROW(be.make_stream_gate(std::chrono::milliseconds(0)), std::invalid_argument);
}

}  // namespace
}  // namespace dpb
