// `ortformers export` for the decoder-only fixtures end to end: --legacy --quantize int4 writes optimum's three
// legacy files, and the merged decoder's generate() equals the split decoders' (same int4 weights);
// a bad --quantize name is refused by the CLI.
#include <gtest/gtest.h>

#include "ortformers/generation/generate.hpp"
#include "ortformers/core/json.hpp"
#include "ortformers/models/causal_lm.hpp"
#include "ortformers/models/seq2seq_lm.hpp"
#include "support/cli.hpp"
#include "support/fixtures.hpp"

namespace fs = std::filesystem;
using namespace ortformers;

TEST(CliExportCausalLM, LegacyInt4FolderGenerates) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  ORTFORMERS_REQUIRE_CLI();
  const fs::path out = ortformers::testing::make_temp_dir("cli-export-gen") / "llama";
  const auto r = ortformers::testing::run_cli(
      "export --model " + ortformers::testing::shell_quote((fixtures / "models" / "llama-tiny").string()) +
      " --legacy --quantize int4 --no-progress " + ortformers::testing::shell_quote(out.string()));
  ASSERT_EQ(r.status, 0) << r.raw;
  EXPECT_NE(r.raw.find("text-generation-with-past"), std::string::npos) << r.raw;
  EXPECT_NE(r.raw.find("decoder_model.onnx, decoder_with_past_model.onnx, decoder_model_merged.onnx"),
            std::string::npos)
      << r.raw;
  for (const char* f : {"decoder_model.onnx", "decoder_with_past_model.onnx", "decoder_model_merged.onnx",
                        "generation_config.json", "tokenizer.model", "config.json"})
    EXPECT_TRUE(fs::exists(out / f)) << f;
  const auto m = models::ORTModelForCausalLM::from_pretrained(out.string());
  EXPECT_EQ(m.layout(), models::CausalLMLayout::Merged);
  generation::GenerationConfig config = generation::GenerationConfig::from_pretrained(out);
  config.max_new_tokens = 6;
  const auto ids = Tensor::from_values<std::int64_t>({1, 15043, 3186}, {1, 3});
  const auto seq = generation::generate(m, ids, Tensor(), config).sequences;
  EXPECT_GT(seq.dim(1), 3);
  EXPECT_LE(seq.dim(1), 9);
  // The split decoders of the same folder (same int4 weights) continue identically.
  models::CausalLMOptions split;
  split.use_merged = false;
  const auto s = models::ORTModelForCausalLM::from_pretrained(out.string(), split);
  EXPECT_EQ(s.layout(), models::CausalLMLayout::Split);
  EXPECT_EQ(generation::generate(s, ids, Tensor(), config).sequences.to_vector<std::int64_t>(),
            seq.to_vector<std::int64_t>());
  std::error_code ec;
  fs::remove_all(out.parent_path(), ec);
}

TEST(CliExportCausalLM, UnknownQuantizationIsRefused) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  ORTFORMERS_REQUIRE_CLI();
  const fs::path out = ortformers::testing::make_temp_dir("cli-export-gen-bad");
  const auto r = ortformers::testing::run_cli(
      "export --model " + ortformers::testing::shell_quote((fixtures / "models" / "gpt2-tiny").string()) +
      " --quantize int3 " + ortformers::testing::shell_quote((out / "x").string()));
  EXPECT_NE(r.status, 0);
  EXPECT_FALSE(fs::exists(out / "x" / "model.onnx"));
  std::error_code ec;
  fs::remove_all(out, ec);
}

// `ortformers export` of an encoder-decoder checkpoint: the task is inferred (T5ForConditionalGeneration ->
// text2text-generation-with-past), optimum's four files are written, and the folder generates the reference greedy
// sequence.
TEST(CliExportSeq2Seq, T5FolderGenerates) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  ORTFORMERS_REQUIRE_CLI();
  const fs::path out = ortformers::testing::make_temp_dir("cli-export-s2s") / "t5";
  const auto r = ortformers::testing::run_cli(
      "export --model " + ortformers::testing::shell_quote((fixtures / "models" / "t5-tiny").string()) +
      " --no-progress " + ortformers::testing::shell_quote(out.string()));
  ASSERT_EQ(r.status, 0) << r.raw;
  EXPECT_NE(r.raw.find("text2text-generation-with-past"), std::string::npos) << r.raw;
  EXPECT_NE(
      r.raw.find("encoder_model.onnx, decoder_model.onnx, decoder_with_past_model.onnx, decoder_model_merged.onnx"),
      std::string::npos)
      << r.raw;
  for (const char* f : {"spiece.model", "config.json", "generation_config.json"}) EXPECT_TRUE(fs::exists(out / f)) << f;
  const auto m = models::ORTModelForSeq2SeqLM::from_pretrained(out.string());
  const Json ref = read_json_file(fixtures / "reference" / "t5-tiny.json");
  const Json& c = ref.at("generate")[0];  // greedy, input0
  ASSERT_EQ(c.at("id"), "greedy");
  const auto& in = ref.at("generate_inputs").at(c.at("input").get<std::string>());
  auto config = generation::GenerationConfig::from_pretrained(out);
  config.update(c.at("kwargs"));
  const auto ids = in.at("input_ids").get<std::vector<std::vector<std::int64_t>>>();
  const auto seq = generation::generate(
      m, TensorMap{{"input_ids", Tensor::from_vector(ids[0], {1, static_cast<std::int64_t>(ids[0].size())})}}, config);
  EXPECT_EQ(seq.sequences.to_vector<std::int64_t>(), c.at("sequences")[0].get<std::vector<std::int64_t>>());
  std::error_code ec;
  fs::remove_all(out.parent_path(), ec);
}
