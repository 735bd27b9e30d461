// The real-layout presets: parameter and tensor counts against the real models (FACTS.md), the
// registration order DDP buckets in, DDP's bucket assignment at 25 MiB / 1 MiB, and FLOPs per
// sample against the published figures. Layout only: nothing here trains the full-size models.
#include <gtest/gtest.h>

#include <cmath>

#include "train/bucket.h"
#include "train/model_spec.h"

namespace dpb {
namespace {

constexpr std::size_t kMiB = std::size_t{1} << 20;

TEST(ModelPresets, ResNet50HasTorchvisionsParameters) {
  const ModelSpec m = parse_model("resnet50");
  EXPECT_EQ(m.param_count(), 25557032u);
  EXPECT_EQ(m.params().size(), 161u);
  EXPECT_EQ(m.params().front().name, "conv1.weight");
  EXPECT_EQ(m.params().front().shape, (std::vector<std::size_t>{64, 3, 7, 7}));
  EXPECT_EQ(m.params()[1].name, "bn1.weight");
  EXPECT_EQ(m.params()[3].name, "layer1.0.conv1.weight");
  EXPECT_EQ(m.params()[12].name, "layer1.0.downsample.0.weight");
  EXPECT_EQ(m.params()[13].name, "layer1.0.downsample.1.weight");
  EXPECT_EQ(m.params().back().name, "fc.bias");
  EXPECT_EQ(m.param_count(), m.reference_params);
  EXPECT_EQ(m.params().size(), m.reference_tensors);
}

TEST(ModelPresets, Gpt2SmallHasTiedEmbeddingsAndHuggingFacesTensors) {
  const ModelSpec m = parse_model("gpt2-small");
  EXPECT_EQ(m.param_count(), 124439808u);
  EXPECT_EQ(m.params().size(), 148u);
  EXPECT_EQ(m.params()[0].name, "transformer.wte.weight");
  EXPECT_EQ(m.params()[1].name, "transformer.wpe.weight");
  EXPECT_EQ(m.params()[2].name, "transformer.h.0.ln_1.weight");
  EXPECT_EQ(m.params()[4].name, "transformer.h.0.attn.c_attn.weight");
  EXPECT_EQ(m.params()[4].shape, (std::vector<std::size_t>{768, 2304}));  // Conv1D: [in, out]
  EXPECT_EQ(m.params().back().name, "transformer.ln_f.bias");
  EXPECT_EQ(m.chain.back().name, "lm_head");
  EXPECT_EQ(m.chain.back().weight, 0);  // tied to wte
  EXPECT_EQ(m.seq, 1024);
  EXPECT_EQ(parse_model("gpt2-small:128").seq, 128);
  EXPECT_EQ(parse_model("gpt2-small:128").param_count(), 124439808u);  // wpe keeps its 1024 rows
}

TEST(ModelPresets, BertBaseHasBertModelsTensors) {
  const ModelSpec m = parse_model("bert-base");
  EXPECT_EQ(m.param_count(), 109482240u);
  EXPECT_EQ(m.params().size(), 199u);
  EXPECT_EQ(m.params()[0].name, "embeddings.word_embeddings.weight");
  EXPECT_EQ(m.params().back().name, "pooler.dense.bias");
}

// FLOPs per sample of the executed GEMMs against the published / formula figures: within a few %.
TEST(ModelPresets, FlopsPerSampleMatchTheReferences) {
  for (const char* name : {"resnet50", "gpt2-small", "gpt2-small:128", "bert-base"}) {
    const ModelSpec m = parse_model(name);
    const double rel = std::abs(m.flops_per_sample() / m.reference_flops_per_sample - 1.0);
    EXPECT_LT(rel, 0.03) << name << ": " << m.flops_per_sample() << " vs " << m.reference_flops_per_sample;
  }
}

TEST(ModelPresets, BadSequenceLengthsNameTheSetting) {
  for (const char* bad : {"gpt2-small:0", "gpt2-small:2048", "gpt2-small:", "bert-base:x", "bert-base:513"}) {
    try {
      parse_model(bad);
      ADD_FAILURE() << bad;
    } catch (const std::invalid_argument& e) {
      EXPECT_EQ(std::string(e.what()).rfind("model: ", 0), 0u) << e.what();
    }
  }
}

// DDP's rule, written out independently of assign_buckets: walk the tensors in reverse
// registration order, close the open bucket once its bytes reach the cap (1 MiB for the first,
// 25 MiB after).
std::vector<std::vector<std::string>> ddp_buckets(const ModelSpec& m) {
  std::vector<std::vector<std::string>> out(1);
  std::size_t bytes = 0;
  for (auto it = m.params().rbegin(); it != m.params().rend(); ++it) {
    out.back().push_back(it->name);
    bytes += it->count() * 4;
    if (bytes >= (out.size() == 1 ? kMiB : 25 * kMiB)) {
      out.emplace_back();
      bytes = 0;
    }
  }
  if (out.back().empty()) out.pop_back();
  return out;
}

std::vector<std::vector<std::string>> planned(const ModelSpec& m) {
  const BucketPlan plan = assign_buckets(m.params(), 4, 25 * kMiB, kMiB);
  std::vector<std::vector<std::string>> out;
  for (const auto& b : plan.buckets) {
    out.emplace_back();
    for (int k : b.params) out.back().push_back(m.params()[static_cast<std::size_t>(k)].name);
  }
  return out;
}

TEST(ModelPresets, BucketsFollowDdpsRuleAt25MiB) {
  for (const char* name : {"resnet50", "gpt2-small", "bert-base"}) {
    const ModelSpec m = parse_model(name);
    EXPECT_EQ(planned(m), ddp_buckets(m)) << name;
  }
  // Spot checks a reader can verify by hand.
  const auto resnet = planned(parse_model("resnet50"));
  EXPECT_EQ(resnet.front(), (std::vector<std::string>{"fc.bias", "fc.weight"}));  // fc.weight alone is 7.8 MiB
  const auto gpt2 = planned(parse_model("gpt2-small"));
  EXPECT_EQ(gpt2.front(), (std::vector<std::string>{"transformer.ln_f.bias", "transformer.ln_f.weight",
                                                    "transformer.h.11.mlp.c_proj.bias",
                                                    "transformer.h.11.mlp.c_proj.weight"}));
  EXPECT_EQ(gpt2[1].back(), "transformer.h.10.mlp.c_proj.weight");  // 27 MiB: the rest of h.11 + h.10's c_proj
  EXPECT_EQ(gpt2.back().back(), "transformer.wte.weight");
  EXPECT_EQ(resnet.size(), 5u);
  EXPECT_EQ(gpt2.size(), 13u);  // 12 of ~27 MiB, then wpe + wte (150 MiB: a tensor is never split)
}

}  // namespace
}  // namespace dpb
