// pipeline("text2text-generation" / "summarization" / "translation_xx_to_yy"): every pipelines entry of the t5-tiny
// and bart-tiny references (transformers 4.31 outputs, exact), T5's task prefixes from task_specific_params,
// return_tensors, batch_size, warnings and errors as transformers' texts.
#include <gtest/gtest.h>

#include "ortformers/core/error.hpp"
#include "ortformers/pipelines/pipeline.hpp"
#include "ortformers/pipelines/text2text_generation.hpp"
#include "ortformers/tokenizers/pretrained_tokenizer.hpp"
#include "support/fixtures.hpp"

using namespace ortformers;
namespace fs = std::filesystem;

namespace {

template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

int check_reference(const fs::path& fixtures, const std::string& name, Json extra_kwargs = Json::object()) {
  const Json ref = read_json_file(fixtures / "reference" / (name + ".json"));
  int checked = 0;
  for (const auto& [task, entries] : ref.at("pipelines").items()) {
    auto pipe = pipelines::pipeline(task, (fixtures / "onnx" / name).string());
    EXPECT_EQ(pipe->task(), task);
    for (const auto& e : entries) {
      Json kwargs = e.at("kwargs");
      for (const auto& [k, v] : extra_kwargs.items()) kwargs[k] = v;
      SCOPED_TRACE(name + " " + task + ": " + e.at("input").dump() + " " + kwargs.dump());
      EXPECT_TRUE(e.contains("output")) << "entry without output";
      if (!e.contains("output")) continue;
      EXPECT_EQ(pipe->call(e.at("input"), kwargs), e.at("output"));
      ++checked;
    }
  }
  return checked;
}

}  // namespace

TEST(Text2TextPipelines, T5ReferenceEntries) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  EXPECT_EQ(check_reference(fixtures, "t5-tiny"), 8);
}

TEST(Text2TextPipelines, BartReferenceEntries) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  EXPECT_EQ(check_reference(fixtures, "bart-tiny"), 4);
}

// Lists padded together (batch_size 2) give the same outputs as one at a time.
TEST(Text2TextPipelines, BatchedListsMatch) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  EXPECT_EQ(check_reference(fixtures, "t5-tiny", {{"batch_size", 2}}), 8);
  EXPECT_EQ(check_reference(fixtures, "bart-tiny", {{"batch_size", 2}}), 4);
}

TEST(Text2TextPipelines, TaskPrefixesAndParameters) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const std::string t5 = (fixtures / "onnx" / "t5-tiny").string();
  pipelines::PipelineOptions o;
  o.task = "translation_en_to_de";
  pipelines::TranslationPipeline de(t5, o);
  EXPECT_EQ(de.prefix(), "translate English to German: ");
  EXPECT_EQ(de.generation_config().num_beams, 4);  // task_specific_params also update the generation config
  pipelines::SummarizationPipeline sum(t5);
  EXPECT_EQ(sum.prefix(), "summarize: ");
  pipelines::Text2TextGenerationPipeline t2t(t5);
  EXPECT_EQ(t2t.prefix(), "");
  // "translation" alone: the first translation_* entry of task_specific_params.
  auto generic = pipelines::pipeline("translation", t5);
  EXPECT_EQ(dynamic_cast<pipelines::TranslationPipeline&>(*generic).prefix(), "translate English to German: ");
  EXPECT_EQ(generic->task(), "translation_en_to_de");
  // return_tensors: the whole sequence, decoder start included; its decode is the text.
  const Json text = t2t.call("summarize: The tower is tall.", {{"max_new_tokens", 5}});
  const Json ids = t2t.call("summarize: The tower is tall.", {{"max_new_tokens", 5}, {"return_tensors", true}});
  ASSERT_TRUE(ids[0].contains("generated_token_ids")) << ids.dump();
  const auto seq = ids[0].at("generated_token_ids").get<std::vector<std::int64_t>>();
  EXPECT_EQ(seq.front(), 1100);  // T5's decoder_start_token_id
  EXPECT_EQ(t2t.tokenizer().decode(seq, true, false), text[0].at("generated_text").get<std::string>());
  // Summarization's check_inputs warning (4.31 text).
  sum.call("The tower is tall.", {{"max_length", 30}, {"min_length", 2}});
  ASSERT_FALSE(sum.warnings().empty());
  EXPECT_NE(sum.warnings().back().find("Your max_length is set to 30, but your input_length is only"),
            std::string::npos)
      << sum.warnings().back();
  // Translation's check_inputs warning.
  de.call("The house is wonderful and very large indeed.", {{"max_length", 10}});
  bool warned = false;
  for (const auto& w : de.warnings())
    warned = warned || w.find("is bigger than 0.9 * max_length: 10") != std::string::npos;
  EXPECT_TRUE(warned);
}

TEST(Text2TextPipelines, ErrorsAsTransformers) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const std::string t5 = (fixtures / "onnx" / "t5-tiny").string();
  EXPECT_EQ(error_of([&] { pipelines::pipeline("translation_en_de", t5); }),
            "Invalid translation task translation_en_de, use 'translation_XX_to_YY' format");
  EXPECT_EQ(error_of([&] { pipelines::pipeline("translation"); }),
            "The task defaults can't be correctly selected. You probably meant \"translation_XX_to_YY\"");
  EXPECT_EQ(error_of([&] { pipelines::pipeline("translation_en_to_es"); }),
            "The task does not provide any default models for options ('en', 'es')");
  auto pipe = pipelines::pipeline("text2text-generation", t5);
  EXPECT_NE(error_of([&] {
              pipe->call("hello", {{"max_new_tokens", 3}, {"not_a_kwarg", 1}});
            }).find("The following `model_kwargs` are not used by the model: ['not_a_kwarg']"),
            std::string::npos);
  EXPECT_NE(error_of([&] { pipe->call(Json(42)); }).find("have the wrong format"), std::string::npos);
  EXPECT_NE(error_of([&] {
              pipe->call("hello", {{"truncation", "sideways"}});
            }).find("TruncationStrategy"),
            std::string::npos);
  // A task the config lacks: no prefix (transformers raises nothing either); the pipeline still runs.
  pipelines::PipelineOptions o;
  o.task = "translation_en_to_es";
  pipelines::TranslationPipeline es(t5, o);
  EXPECT_EQ(es.prefix(), "");
  EXPECT_EQ(es.call("hello", {{"max_new_tokens", 2}}).size(), 1u);
}

TEST(Text2TextPipelines, DetectTask) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  auto pipe = pipelines::pipeline("text2text-generation", (fixtures / "onnx" / "bart-tiny").string());
  EXPECT_EQ(pipelines::detect_task(pipe->model()), "text2text-generation");
  const auto tasks = pipelines::supported_tasks();
  for (const char* t : {"text2text-generation", "summarization", "translation"})
    EXPECT_NE(std::find(tasks.begin(), tasks.end(), t), tasks.end()) << t;
}
