// `dpbench train` records its sweep's axis values under invocation.options, and --resume compares
// them with the file's: their form is pinned here (taken from the code before the axis
// descriptor, core/train/train_axes.h), so files written before it stay resumable.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli_test_support.h"

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace dpb::testing;

class CliTrainOptions : public CliTest {
 protected:
  CliTrainOptions() : CliTest("train") {}

  // The options of a quick sweep, restricted to the axes' entries.
  json axis_options(std::vector<std::string> extra) {
    const fs::path out = dir_ / "o.json";
    std::vector<std::string> args = {"--backend", "cpu", "--cpu-devices", "2", "--model", "16,16,4", "--warmup", "1",
                                     "--iters", "1", "--out", out.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    const RunResult r = run(args);
    EXPECT_EQ(r.rc, 0) << r.out << r.err;
    const json options = json::parse(slurp(out))["invocation"]["options"];
    json picked = json::object();
    for (const char* key : {"model", "algo", "precision", "gpus", "devices", "bucket_mb", "first_bucket_mb", "batch",
                            "global_batch", "scaling", "overlap", "optimizer", "accum", "comm_dtype", "lr_scaling"}) {
      if (options.contains(key)) picked[key] = options[key];
    }
    return picked;
  }
};

TEST_F(CliTrainOptions, WeakSweepWithSyncAxes) {
  const json o = axis_options({"--gpus", "2,1", "--algo", "p2p-tree", "--bucket-mb", "1,0.5,1", "--first-bucket-mb",
                               "0.25", "--batch", "8", "--accum", "2,1", "--lr-scaling", "sqrt", "--comm-dtype",
                               "bf16,fp32"});
  EXPECT_EQ(o.dump(),
            R"({"accum":[2,1],"algo":["p2p-tree"],"batch":[8],"bucket_mb":[1.0,0.5],)"
            R"("comm_dtype":["bf16","fp32"],"devices":null,"first_bucket_mb":0.25,"gpus":[1,2],)"
            R"("lr_scaling":["sqrt"],"model":"16,16,4","optimizer":"adamw","overlap":true,)"
            R"("precision":["fp32"],"scaling":"weak"})");
}

TEST_F(CliTrainOptions, StrongSweepWithoutOverlap) {
  const json o = axis_options({"--devices", "1,0", "--gpus", "1,2", "--global-batch", "8", "--no-overlap", "--algo", "p2p-tree,p2p-ring",
                               "--optimizer", "sgd", "--precision", "bf16,fp32"});
  EXPECT_EQ(o.dump(),
            R"({"accum":[1],"algo":["p2p-tree","p2p-ring"],"bucket_mb":[25.0],"comm_dtype":["precision"],"devices":[1,0],)"
            R"("first_bucket_mb":1.0,"global_batch":[8],"gpus":[1,2],"lr_scaling":["none"],"model":"16,16,4",)"
            R"("optimizer":"sgd","overlap":false,"precision":["bf16","fp32"],"scaling":"strong"})");
}

}  // namespace
