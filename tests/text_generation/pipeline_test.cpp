// pipeline("text-generation"): every pipelines["text-generation"] entry of the gpt2-tiny / llama-tiny references
// (transformers 4.31 outputs and the ids the pipeline fed the model), from the optimum exports; parameters and errors
// as transformers' TextGenerationPipeline.
#include <gtest/gtest.h>

#include <fstream>

#include "ortformers/core/error.hpp"
#include "ortformers/generation/streamers.hpp"
#include "ortformers/pipelines/pipeline.hpp"
#include "ortformers/pipelines/text_generation.hpp"
#include "ortformers/tokenizers/pretrained_tokenizer.hpp"
#include "support/fixtures.hpp"

using namespace ortformers;
namespace fs = std::filesystem;
using pipelines::TextGenerationPipeline;

namespace {

// Message of the exception `f` throws (empty when it throws none).
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

// Runs every recorded entry through the pipeline of `onnx_dir`; `padded_ok`: the graph takes position_ids, so
// left-padded batches are exact (the legacy exports have none: optimum warns that padding then changes the result).
void check_reference(const fs::path& fixtures, const std::string& name, const std::string& onnx_dir, bool padded_ok) {
  const Json ref = read_json_file(fixtures / "reference" / (name + ".json"));
  auto pipe = pipelines::pipeline("text-generation", (fixtures / "onnx" / onnx_dir).string());
  auto* tg = dynamic_cast<TextGenerationPipeline*>(pipe.get());
  ASSERT_NE(tg, nullptr);
  int checked = 0;
  for (const auto& e : ref.at("pipelines").at("text-generation")) {
    const Json& kwargs = e.at("kwargs");
    if (!padded_ok && kwargs.value("batch_size", 1) > 1) continue;
    SCOPED_TRACE(onnx_dir + ": " + e.at("input").dump() + " " + kwargs.dump());
    ASSERT_TRUE(e.contains("output")) << "entry without output";
    const Json got = pipe->call(e.at("input"), kwargs);
    EXPECT_EQ(got, e.at("output"));
    // model_input_ids: the ids of each prompt (tokenized without special tokens), before any padding.
    const Json inputs = e.at("input").is_array() ? e.at("input") : Json::array({e.at("input")});
    ASSERT_EQ(inputs.size(), e.at("model_input_ids").size());
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      const auto prepared = tg->preprocess(inputs[i], tg->parse_kwargs(kwargs));
      EXPECT_EQ(Json(prepared.input_ids), e.at("model_input_ids")[i]);
      EXPECT_EQ(prepared.prompt_text, inputs[i].get<std::string>());
    }
    ++checked;
  }
  EXPECT_GE(checked, padded_ok ? 7 : 6);
}

}  // namespace

TEST(TextGenerationPipeline, Gpt2ReferenceEntries) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  check_reference(fixtures, "gpt2-tiny", "gpt2-tiny", true);
}

TEST(TextGenerationPipeline, Gpt2LegacyExportReferenceEntries) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  check_reference(fixtures, "gpt2-tiny", "gpt2-tiny-legacy", false);
}

TEST(TextGenerationPipeline, LlamaReferenceEntries) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  check_reference(fixtures, "llama-tiny", "llama-tiny", true);
}

TEST(TextGenerationPipeline, DetectTaskAndRegistry) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const auto tasks = pipelines::supported_tasks();
  EXPECT_NE(std::find(tasks.begin(), tasks.end(), "text-generation"), tasks.end());
  for (const char* dir : {"gpt2-tiny", "llama-tiny"}) {
    auto pipe = pipelines::pipeline("text-generation", (fixtures / "onnx" / dir).string());
    EXPECT_EQ(pipe->task(), "text-generation");
    EXPECT_EQ(pipelines::detect_task(pipe->model()), "text-generation") << dir;
    auto custom = models::ORTModelForCustomTasks::from_pretrained((fixtures / "onnx" / dir).string());
    EXPECT_EQ(pipelines::detect_task(custom), "text-generation") << dir;
  }
}

// The new text of return_full_text=False is decode(all)[len(decode(prompt)):]; the full text is the prompt as given
// plus that new text; return_tensors gives the whole sequence, whose text is the full text.
TEST(TextGenerationPipeline, ReturnTypesAgree) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  TextGenerationPipeline pipe((fixtures / "onnx" / "gpt2-tiny").string());
  const std::string prompt = "The capital of France is";
  const Json base = {{"max_new_tokens", 5}};
  Json k_new = base, k_ids = base;
  k_new["return_full_text"] = false;
  k_ids["return_tensors"] = true;
  const Json full = pipe.call(prompt, base), fresh = pipe.call(prompt, k_new), ids = pipe.call(prompt, k_ids);
  ASSERT_EQ(full.size(), 1u);
  EXPECT_EQ(full[0].at("generated_text").get<std::string>(), prompt + fresh[0].at("generated_text").get<std::string>());
  const auto tokens = ids[0].at("generated_token_ids").get<std::vector<std::int64_t>>();
  EXPECT_EQ(tokens.size(), pipe.preprocess(prompt).input_ids.size() + 5);
  EXPECT_EQ(pipe.tokenizer().decode(tokens, true), full[0].at("generated_text").get<std::string>());
  // return_type as transformers' enum value, and a list input gives a list of lists.
  Json k_type = base;
  k_type["return_type"] = 1;
  EXPECT_EQ(pipe.call(prompt, k_type), fresh);
  const Json list = pipe.call(Json::array({prompt, prompt}), k_new);
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0], fresh);
  EXPECT_EQ(list[1], fresh);
}

// prefix is tokenized with the prompt but not returned: the new text equals the one of prefix + prompt.
TEST(TextGenerationPipeline, Prefix) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  TextGenerationPipeline pipe((fixtures / "onnx" / "gpt2-tiny").string());
  const Json with_prefix = pipe.call(" is cute and", {{"prefix", "Hello, my dog"}, {"max_new_tokens", 6}});
  const Json whole = pipe.call("Hello, my dog is cute and", {{"max_new_tokens", 6}, {"return_full_text", false}});
  const std::string text = with_prefix[0].at("generated_text");
  EXPECT_EQ(text, " is cute and" + whole[0].at("generated_text").get<std::string>());
  pipelines::TextGenerationOptions o;
  o.prefix = "Hello, my dog";
  EXPECT_EQ(pipe.preprocess(Json(" is cute and"), o).input_ids,
            pipe.preprocess(Json("Hello, my dog is cute and")).input_ids);
  // Without max_new_tokens the prefix's tokens are added to max_length (4.31 _forward): 20 + 4 in all.
  ASSERT_EQ(pipe.preprocess(Json(""), o).input_ids.size(), 4u);  // Hello , my dog
  const Json ids = pipe.call(" is", {{"prefix", "Hello, my dog"}, {"return_tensors", true}});
  EXPECT_EQ(ids[0].at("generated_token_ids").size(), 20u + 4u);
}

// handle_long_generation="hole": the prompt's start is cut so that prompt + new tokens fit model_max_length (128).
TEST(TextGenerationPipeline, HandleLongGenerationHole) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  TextGenerationPipeline pipe((fixtures / "onnx" / "gpt2-tiny").string());
  std::string prompt;
  for (int i = 0; i < 40; ++i) prompt += "Hello, my dog is cute. ";
  const auto all_ids = pipe.preprocess(prompt).input_ids;
  ASSERT_GT(all_ids.size(), 128u);
  const Json kwargs = {{"handle_long_generation", "hole"}, {"max_new_tokens", 8}};
  const auto o = pipe.parse_kwargs(kwargs);
  const auto cut = pipe.preprocess(prompt, o).input_ids;
  ASSERT_EQ(cut.size(), 120u);
  EXPECT_TRUE(std::equal(cut.begin(), cut.end(), all_ids.end() - 120));
  Json k = kwargs;
  k["return_tensors"] = true;
  const Json out = pipe.call(prompt, k);
  EXPECT_EQ(out[0].at("generated_token_ids").size(), 128u);
  // Without hole the same prompt is longer than the model's positions: an error, no crash.
  EXPECT_THROW(pipe.call(prompt, {{"max_new_tokens", 8}}), Error);
  EXPECT_EQ(
      error_of([&] {
        pipe.call(prompt, {{"handle_long_generation", "hole"}, {"max_new_tokens", 200}});
      }),
      "We cannot use `hole` to handle this generation the number of desired tokens exceeds the models max length");
  EXPECT_EQ(error_of([&] {
              pipe.call(prompt, {{"handle_long_generation", "hole"}});
            }),
            "We cannot infer how many new tokens are expected");
}

TEST(TextGenerationPipeline, BadArguments) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  TextGenerationPipeline pipe((fixtures / "onnx" / "gpt2-tiny").string());
  const std::string p = "Hello";
  EXPECT_EQ(error_of([&] {
              pipe.call(p, {{"handle_long_generation", "cut"}});
            }),
            "cut is not a valid value for `handle_long_generation` parameter expected [None, 'hole']");
  EXPECT_EQ(error_of([&] {
              pipe.call(p, {{"return_full_text", true}, {"return_text", true}});
            }),
            "`return_text` is mutually exclusive with `return_full_text`");
  EXPECT_EQ(error_of([&] {
              pipe.call(p, {{"return_full_text", true}, {"return_tensors", true}});
            }),
            "`return_full_text` is mutually exclusive with `return_tensors`");
  EXPECT_EQ(error_of([&] {
              pipe.call(p, {{"return_tensors", true}, {"return_text", true}});
            }),
            "`return_text` is mutually exclusive with `return_tensors`");
  EXPECT_EQ(error_of([&] {
              pipe.call(p, {{"max_new_tokens", 2}, {"foo", 1}, {"bar", 2}});
            }),
            "The following `model_kwargs` are not used by the model: ['bar', 'foo'] (note: typos in the generate "
            "arguments will also show up in this list)");
  // generate()'s own checks surface as errors (messages are the generation stage's, transformers' texts).
  EXPECT_THROW(pipe.call(p, {{"num_beams", 2}, {"num_return_sequences", 3}, {"max_new_tokens", 2}}), InvalidArgument);
  EXPECT_THROW(pipe.call(p, {{"do_sample", true}, {"temperature", -1.0}, {"max_new_tokens", 2}}), InvalidArgument);
  EXPECT_THROW(pipe.call(Json(42)), InvalidArgument);
  EXPECT_THROW(pipe.call(Json::array()), InvalidArgument);
  EXPECT_THROW(pipe.call(p, {{"batch_size", 0}}), InvalidArgument);
  EXPECT_THROW(pipe.call(p, Json::array()), InvalidArgument);
}

// An empty prompt generates from bos_token_id, as 4.31 (input_ids None); the text is the generated one alone.
TEST(TextGenerationPipeline, EmptyPrompt) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  TextGenerationPipeline pipe((fixtures / "onnx" / "gpt2-tiny").string());
  const Json ids = pipe.call("", {{"max_new_tokens", 4}, {"return_tensors", true}});
  const auto tokens = ids[0].at("generated_token_ids").get<std::vector<std::int64_t>>();
  ASSERT_EQ(tokens.size(), 5u);
  EXPECT_EQ(tokens[0], 50256);
  const Json text = pipe.call("", {{"max_new_tokens", 4}});
  EXPECT_EQ(text[0].at("generated_text").get<std::string>(), pipe.tokenizer().decode(tokens, true));
}

// Batches of several sizes, with beams and num_return_sequences, equal one prompt at a time.
TEST(TextGenerationPipeline, BatchedEqualsOneAtATime) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  for (const char* dir : {"gpt2-tiny", "llama-tiny"}) {
    TextGenerationPipeline pipe((fixtures / "onnx" / dir).string());
    const Json prompts = {"Hello, my dog is cute and", "The capital of France is", "Once upon a time"};
    const Json kwargs = {{"max_new_tokens", 5}, {"num_beams", 3}, {"num_return_sequences", 2}};
    const Json single = pipe.call(prompts, kwargs);
    for (int bs : {2, 3}) {
      Json k = kwargs;
      k["batch_size"] = bs;
      EXPECT_EQ(pipe.call(prompts, k), single) << dir << " batch_size " << bs;
    }
    // call_batch (the CLI's door): one result per input, batched across inputs.
    Json k = kwargs;
    k["batch_size"] = 2;
    const auto lines = pipe.call_batch({prompts[0], prompts[1], prompts[2]}, k);
    ASSERT_EQ(lines.size(), 3u);
    for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(lines[i], single[i]) << dir;
  }
}

// A streamer sees the prompt then every new token: the streamed text is the pipeline's full text (decoded with the
// tokenizer's own clean-up setting, as TextStreamer decodes; the final newline is the printing streamer's own).
TEST(TextGenerationPipeline, StreamerConcatenationEqualsText) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  for (const char* dir : {"gpt2-tiny", "llama-tiny"}) {
    TextGenerationPipeline pipe((fixtures / "onnx" / dir).string());
    std::string streamed;
    int ends = 0;
    generation::CallbackTextStreamer streamer(
        pipe.tokenizer(),
        [&](const std::string& text, bool end) {
          streamed += text;
          ends += end ? 1 : 0;
        },
        /*skip_prompt=*/false, /*skip_special_tokens=*/true);
    pipelines::TextGenerationOptions o = pipe.parse_kwargs(
        {{"max_new_tokens", 12}, {"clean_up_tokenization_spaces", pipe.tokenizer().clean_up_tokenization_spaces()}});
    o.streamer = &streamer;
    const auto out = pipe("Hello, my dog is cute and", o);
    EXPECT_EQ(ends, 1);
    EXPECT_EQ(streamed, *out.at(0).generated_text) << dir;
    // Beams cannot stream (transformers' error).
    o.generate_kwargs["num_beams"] = 2;
    EXPECT_THROW(pipe("Hello", o), InvalidArgument);
  }
}
