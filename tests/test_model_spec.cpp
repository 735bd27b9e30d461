// The reference MLP's description: presets sized by parameter count, explicit widths, parameter
// registration order, and one clear error for a bad --model.
#include <gtest/gtest.h>

#include "train/model_spec.h"

namespace dpb {
namespace {

TEST(ModelSpec, PresetsMatchTheGradientVolumesTheyStandFor) {
  EXPECT_NEAR(static_cast<double>(parse_model("small").param_count()), 1.0e6, 0.1e6);
  EXPECT_NEAR(static_cast<double>(parse_model("medium").param_count()), 25.6e6, 1.0e6);   // ResNet-50
  EXPECT_NEAR(static_cast<double>(parse_model("large").param_count()), 340e6, 15e6);      // BERT-large
}

TEST(ModelSpec, ExplicitWidthsGiveLinearLayersInRegistrationOrder) {
  const ModelSpec m = parse_model("512,1024,1024,10");
  EXPECT_EQ(m.name, "512,1024,1024,10");
  EXPECT_EQ(m.layers(), 3);
  EXPECT_EQ(m.input_dim(), 512);
  EXPECT_EQ(m.classes(), 10);
  EXPECT_EQ(m.max_width(), 1024);
  const auto p = m.params();
  ASSERT_EQ(p.size(), 6u);
  EXPECT_EQ(p[0].name, "fc0.weight");
  EXPECT_EQ(p[0].rows, 1024u);  // out x in, as nn.Linear
  EXPECT_EQ(p[0].cols, 512u);
  EXPECT_EQ(p[1].name, "fc0.bias");
  EXPECT_TRUE(p[1].is_bias);
  EXPECT_EQ(p[5].name, "fc2.bias");
  EXPECT_EQ(p[5].count(), 10u);
  EXPECT_EQ(m.param_count(), 512u * 1024 + 1024 + 1024u * 1024 + 1024 + 1024u * 10 + 10);
}

TEST(ModelSpec, BadValuesNameTheSetting) {
  for (const char* bad : {"", "huge", "512", "512,,10", "512,10,", "0,10", "512,1", "512,-4,10", "512,1e3,10",
                          "512,70000,10"}) {
    try {
      parse_model(bad);
      ADD_FAILURE() << "accepted --model '" << bad << "'";
    } catch (const std::invalid_argument& e) {
      EXPECT_EQ(std::string(e.what()).rfind("model: ", 0), 0u) << e.what();
    }
  }
}

TEST(ModelSpec, Activations) {
  EXPECT_EQ(parse_activation("gelu"), Activation::gelu);
  EXPECT_EQ(activation_name(parse_activation("relu")), "relu");
  EXPECT_THROW(parse_activation("tanh"), std::invalid_argument);
}

}  // namespace
}  // namespace dpb
