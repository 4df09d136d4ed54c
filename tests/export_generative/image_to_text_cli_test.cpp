// `ortformers export` for the image-to-text fixtures end to end: --task image-to-text-with-past writes optimum's four
// files next to the processor and tokenizer files, and the folder generates the reference's greedy captions.
#include <gtest/gtest.h>

#include "ortformers/generation/generate.hpp"
#include "ortformers/models/vision2seq.hpp"
#include "support/cli.hpp"
#include "support/fixtures.hpp"
#include "support/image_to_text_reference.hpp"

namespace fs = std::filesystem;
using namespace ortformers;

TEST(CliExportImageToText, FourFilesThatGenerateTheReference) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  ORTFORMERS_REQUIRE_CLI();
  const fs::path root = ortformers::testing::make_temp_dir("cli-export-image-to-text");
  for (const std::string name : {"vit-gpt2-tiny", "pix2struct-tiny"}) {
    SCOPED_TRACE(name);
    const fs::path out = root / name;
    const auto r = ortformers::testing::run_cli(
        "export --model " + ortformers::testing::shell_quote((fixtures / "models" / name).string()) +
        " --task image-to-text-with-past --no-progress " + ortformers::testing::shell_quote(out.string()));
    ASSERT_EQ(r.status, 0) << r.raw;
    EXPECT_NE(r.raw.find("encoder_model.onnx, decoder_model.onnx, decoder_with_past_model.onnx, "
                         "decoder_model_merged.onnx"),
              std::string::npos)
        << r.raw;
    for (const char* f : {"config.json", "generation_config.json", "preprocessor_config.json"})
      EXPECT_TRUE(fs::exists(out / f)) << f;
    models::Vision2SeqOptions o;
    std::unique_ptr<models::ORTModelForConditionalGeneration> m;
    if (ortformers::testing::is_pix2struct(name))
      m = std::make_unique<models::ORTModelForPix2Struct>(
          models::ORTModelForPix2Struct::from_pretrained(out.string(), o));
    else
      m = std::make_unique<models::ORTModelForVision2Seq>(
          models::ORTModelForVision2Seq::from_pretrained(out.string(), o));
    for (const auto& c : ortformers::testing::cached_reference(fixtures, name).at("generate")) {
      if (c.at("id") != "greedy") continue;
      auto config = generation::GenerationConfig::from_pretrained(out);
      config.update(c.at("kwargs"));
      const auto inputs = ortformers::testing::image_to_text_inputs(fixtures, name, c.at("input").get<std::string>());
      const auto seq = generation::generate(*m, inputs, config).sequences;
      EXPECT_EQ(ortformers::testing::int_tensor(c.at("sequences")).to_vector<std::int64_t>(),
                seq.to_vector<std::int64_t>())
          << c.at("input");
    }
  }
  std::error_code ec;
  fs::remove_all(root, ec);
}
