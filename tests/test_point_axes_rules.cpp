// The axis descriptor itself (core/results/point_axes.h) on a toy point type: id text of every JSON
// kind, labels, defaults, baseline keys from a spec and from stored axes, recorded options, and
// the property the descriptor exists for: an axis added later with a default leaves the id, label
// and baseline key of every point at that default as they were.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "results/point_axes.h"

namespace dpb {
namespace {

using json = nlohmann::json;

struct Toy {
  std::string algo = "ring";
  int ranks = 2;
  double mb = 25;
  bool overlap = true;
  std::string compression = "none";  // the axis "added later"
};

std::vector<Axis<Toy>> toy_axes(bool with_compression) {
  std::vector<Axis<Toy>> axes = {
      Axis<Toy>("algo", [](const Toy& t) { return json(t.algo); })
          .label(axis_label_value()).baseline(InBaseline::key).option(AxisOption::list),
      Axis<Toy>("ranks", [](const Toy& t) { return json(t.ranks); }).label(axis_label_prefixed("n=")),
      Axis<Toy>("mb", [](const Toy& t) { return json(t.mb); })
          .label(axis_label_prefixed("b")).baseline(InBaseline::key).option(AxisOption::one),
      Axis<Toy>("overlap", [](const Toy& t) { return json(t.overlap); })
          .label(axis_label_if_false("no-overlap")).not_in_id().baseline(InBaseline::grouped),
  };
  if (with_compression) {
    axes.push_back(Axis<Toy>("compression", [](const Toy& t) { return json(t.compression); })
                       .label(axis_label_named("compression"))
                       .default_value([](const json&) { return json("none"); })
                       .baseline(InBaseline::key)
                       .option(AxisOption::list));
  }
  return axes;
}

TEST(PointAxesRules, IdTextOfEveryKind) {
  EXPECT_EQ(id_text(json(true)), "1");
  EXPECT_EQ(id_text(json(false)), "0");
  EXPECT_EQ(id_text(json(-3)), "-3");
  EXPECT_EQ(id_text(json(std::size_t{1} << 40)), "1099511627776");
  EXPECT_EQ(id_text(json(25.0)), "25");
  EXPECT_EQ(id_text(json(0.1)), "0.1");
  EXPECT_EQ(id_text(json("p2p-ring")), "p2p-ring");
  EXPECT_EQ(id_text(json({0, 1, 3})), "0,1,3");
  EXPECT_THROW(id_text(json(nullptr)), std::invalid_argument);
  EXPECT_THROW(id_text(json::object()), std::invalid_argument);
}

TEST(PointAxesRules, EveryFormFromOneList) {
  const PointAxes<Toy> axes("toy", toy_axes(true), {"toy-baseline", "group"});
  Toy t;
  t.overlap = false;
  EXPECT_EQ(axes.order(), (std::vector<std::string>{"algo", "ranks", "mb", "overlap", "compression"}));
  EXPECT_EQ(axes.id(t), "toy/algo=ring/ranks=2/mb=25");
  EXPECT_EQ(axes.label(t), "ring n=2 b25 no-overlap");
  EXPECT_EQ(axes.baseline_key(t), "toy-baseline/group=0/algo=ring/mb=25");
  EXPECT_EQ(axes.axes(t).dump(), R"({"algo":"ring","compression":"none","mb":25.0,"overlap":false,"ranks":2})");
  // The key of a stored point: from its axes JSON, defaults filled in, nothing when an axis is missing.
  json stored = axes.axes(t);
  stored.erase("compression");
  EXPECT_EQ(axes.rules().baseline_key(stored), axes.baseline_key(t));
  stored.erase("mb");
  EXPECT_FALSE(axes.rules().baseline_key(stored));
  Toy u = t;
  u.algo = "tree";
  u.compression = "powersgd";
  EXPECT_EQ(axes.options({t, u, t}).dump(), R"({"algo":["ring","tree"],"compression":["none","powersgd"],"mb":25.0})");
}

TEST(PointAxesRules, AnAxisAddedWithADefaultKeepsEarlierIdsLabelsAndKeys) {
  const PointAxes<Toy> before("toy", toy_axes(false), {"toy-baseline", "group"});
  const PointAxes<Toy> after("toy", toy_axes(true), {"toy-baseline", "group"});
  Toy t;
  EXPECT_EQ(after.id(t), before.id(t));
  EXPECT_EQ(after.label(t), before.label(t));
  EXPECT_EQ(after.baseline_key(t), before.baseline_key(t));
  EXPECT_EQ(after.rules().baseline_key(before.axes(t)), before.baseline_key(t));  // a point of an older file
  t.compression = "powersgd";
  EXPECT_EQ(after.id(t), "toy/algo=ring/ranks=2/mb=25/compression=powersgd");
  EXPECT_EQ(after.label(t), "ring n=2 b25 compression=powersgd");
  EXPECT_EQ(after.baseline_key(t), "toy-baseline/group=1/algo=ring/mb=25/compression=powersgd");
}

}  // namespace
}  // namespace dpb
