// Every `generate` case of reference/gpt2-tiny.json and llama-tiny.json (transformers 4.31 + PyTorch) through
// models::ORTModelForCausalLM: sequences identical, per-step processed scores (top-8 ids / values, finite count)
// within 1e-4, beam sequences_scores within 1e-4.
#include <gtest/gtest.h>

#include "generation/test_util.hpp"
#include "ortformers/generation/generate.hpp"

#include "ortformers/models/causal_lm.hpp"

namespace ortformers::testing {
namespace {

using namespace ortformers::generation;

void check_model(const std::string& name) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const Json ref = read_json_file(fixtures / "reference" / (name + ".json"));
  auto model = models::ORTModelForCausalLM::from_pretrained((fixtures / "onnx" / name).string());
  const auto defaults = GenerationConfig::from_pretrained(fixtures / "models" / name);
  double max_score_diff = 0, max_seq_score_diff = 0;
  std::size_t cases = 0;
  for (const auto& c : ref.at("generate")) {
    const std::string id = c.at("id").get<std::string>() + "/" + c.at("input").get<std::string>();
    const auto& in = ref.at("generate_inputs").at(c.at("input").get<std::string>());
    const Tensor ids = ids_tensor(in.at("input_ids").get<std::vector<std::vector<std::int64_t>>>());
    const Tensor mask = ids_tensor(in.at("attention_mask").get<std::vector<std::vector<std::int64_t>>>());
    GenerationConfig config = defaults;
    const Json unused = config.update(c.at("kwargs"));
    ASSERT_TRUE(unused.empty()) << id << ": " << unused.dump();
    config.output_scores = true;
    config.return_dict_in_generate = true;
    GenerateOutput out = generate(model, ids, mask, config);
    EXPECT_EQ(rows_of(out.sequences), c.at("sequences").get<std::vector<std::vector<std::int64_t>>>()) << id;
    const auto& steps = c.at("scores");
    ASSERT_EQ(out.scores.size(), steps.size()) << id;
    for (std::size_t s = 0; s < steps.size(); ++s) {
      const auto scores = out.scores[s].to_vector<float>();
      const auto vocab = out.scores[s].dim(1);
      const auto& topk_ids = steps[s].at("topk_indices");
      const auto& topk_values = steps[s].at("topk_values");
      const auto& finite = steps[s].at("finite_count");
      ASSERT_EQ(out.scores[s].dim(0), static_cast<std::int64_t>(topk_ids.size())) << id << " step " << s;
      for (std::size_t r = 0; r < topk_ids.size(); ++r) {
        const float* row = scores.data() + static_cast<std::int64_t>(r) * vocab;
        std::int64_t finite_count = 0;
        for (std::int64_t v = 0; v < vocab; ++v) finite_count += std::isinf(row[v]) && row[v] < 0 ? 0 : 1;
        EXPECT_EQ(finite_count, finite[r].get<std::int64_t>()) << id << " step " << s << " row " << r;
        for (std::size_t k = 0; k < topk_ids[r].size(); ++k) {
          const float expected = ref_float(topk_values[r][k]);
          const float actual = row[topk_ids[r][k].get<std::int64_t>()];
          if (std::isinf(expected)) {
            EXPECT_EQ(actual, expected) << id << " step " << s << " row " << r << " k " << k;
            continue;
          }
          max_score_diff = std::max(max_score_diff, std::fabs(static_cast<double>(actual) - expected));
          EXPECT_NEAR(actual, expected, 1e-4) << id << " step " << s << " row " << r << " k " << k;
        }
        // Nothing outside the recorded top-8 beats the 8th.
        if (!topk_values[r].empty()) {
          const float eighth = ref_float(topk_values[r].back());
          std::int64_t above = 0;
          for (std::int64_t v = 0; v < vocab; ++v) above += row[v] > eighth + 1e-4f ? 1 : 0;
          EXPECT_LE(above, static_cast<std::int64_t>(topk_values[r].size()) - 1) << id << " step " << s << " row " << r;
        }
      }
    }
    if (c.contains("sequences_scores")) {
      const auto expected = c.at("sequences_scores").get<std::vector<float>>();
      ASSERT_TRUE(out.sequences_scores.defined()) << id;
      const auto actual = out.sequences_scores.to_vector<float>();
      ASSERT_EQ(actual.size(), expected.size()) << id;
      for (std::size_t i = 0; i < expected.size(); ++i) {
        max_seq_score_diff = std::max(max_seq_score_diff, std::fabs(static_cast<double>(actual[i]) - expected[i]));
        EXPECT_NEAR(actual[i], expected[i], 1e-4) << id << " sequence " << i;
      }
    }
    ++cases;
  }
  EXPECT_GE(cases, 28u);
  ::testing::Test::RecordProperty("cases", static_cast<int>(cases));
  ::testing::Test::RecordProperty("max_score_diff", std::to_string(max_score_diff));
  ::testing::Test::RecordProperty("max_sequences_scores_diff", std::to_string(max_seq_score_diff));
  std::cout << name << ": " << cases << " generate cases, max |score diff| " << max_score_diff
            << ", max |sequences_scores diff| " << max_seq_score_diff << "\n";
}

TEST(GenerateReference, Gpt2Tiny) { check_model("gpt2-tiny"); }
TEST(GenerateReference, LlamaTiny) { check_model("llama-tiny"); }

}  // namespace
}  // namespace ortformers::testing
