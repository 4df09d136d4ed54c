// Every `generate` case of reference/gpt2-tiny.json and llama-tiny.json (transformers 4.31 + PyTorch) through
// models::ORTModelForCausalLM: sequences identical, per-step processed scores (top-8 ids / values, finite count)
// within 1e-4, beam sequences_scores within 1e-4 (check_generate_case in tests/support/generative_reference.hpp).
#include <gtest/gtest.h>

#include "generation/test_util.hpp"
#include "support/generative_reference.hpp"
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
    const GenerateCaseDiffs d = check_generate_case(out, c, id);
    max_score_diff = std::max(max_score_diff, d.scores);
    max_seq_score_diff = std::max(max_seq_score_diff, d.sequences_scores);
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
