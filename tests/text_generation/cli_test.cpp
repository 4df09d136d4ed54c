// The text-generation CLI: `ortformers generate` over a JSONL file of the fixture prompts reproduces the reference
// sequences (and scores), `ortformers run text-generation` the pipeline entries, `generate --stream` prints the
// non-streamed text, `ortformers chat` answers piped lines with the chat template.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "ortformers/pipelines/text_generation.hpp"
#include "ortformers/tokenizers/pretrained_tokenizer.hpp"
#include "support/cli.hpp"
#include "support/fixtures.hpp"

using namespace ortformers;
namespace fs = std::filesystem;
using ortformers::testing::run_cli;
using ortformers::testing::shell_quote;
using ortformers::testing::write_lines;

namespace {

double score_value(const Json& v) {
  if (v.is_string()) {
    const auto s = v.get<std::string>();
    if (s == "-inf") return -INFINITY;
    if (s == "inf") return INFINITY;
    return NAN;
  }
  return v.get<double>();
}

// Cases of the reference `generate` section reproduced through `ortformers generate` (input_ids + attention_mask
// lines with the case kwargs as `parameters`), sequences exactly, the top-8 processed scores within 1e-4, the count
// of finite scores, and sequences_scores for beams.
void check_generate_cases(const fs::path& fixtures, const std::string& name, const std::vector<std::string>& ids) {
  const Json ref = read_json_file(fixtures / "reference" / (name + ".json"));
  std::vector<Json> lines, cases;
  for (const auto& c : ref.at("generate")) {
    if (std::find(ids.begin(), ids.end(), c.at("id").get<std::string>()) == ids.end()) continue;
    Json line = ref.at("generate_inputs").at(c.at("input").get<std::string>());
    line["parameters"] = c.at("kwargs");
    line["parameters"]["output_scores"] = true;
    lines.push_back(line);
    cases.push_back(c);
  }
  ASSERT_EQ(cases.size(), ids.size() * 2);  // input0 and batch of each case
  const fs::path tmp = ortformers::testing::make_temp_dir("textgen_cli");
  const auto file = write_lines(tmp, "inputs.jsonl", lines);
  const auto r = run_cli("generate --model " + shell_quote((fixtures / "onnx" / name).string()) + " --inputs " +
                         shell_quote(file.string()));
  ASSERT_EQ(r.status, 0) << r.raw;
  ASSERT_EQ(r.lines.size(), cases.size());
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const Json& c = cases[i];
    const Json& got = r.lines[i];
    SCOPED_TRACE(name + " " + c.at("id").get<std::string>() + " " + c.at("input").get<std::string>());
    EXPECT_EQ(got.at("sequences"), c.at("sequences"));
    const Json& steps = got.at("scores");
    ASSERT_EQ(steps.size(), c.at("scores").size());
    for (std::size_t s = 0; s < steps.size(); ++s) {
      const Json& e = c.at("scores")[s];
      ASSERT_EQ(steps[s].size(), e.at("topk_indices").size());
      for (std::size_t row = 0; row < steps[s].size(); ++row) {
        const Json& values = steps[s][row];
        std::size_t finite = 0;
        for (const auto& v : values) finite += std::isfinite(score_value(v)) ? 1 : 0;
        EXPECT_EQ(finite, e.at("finite_count")[row].get<std::size_t>()) << "step " << s << " row " << row;
        for (std::size_t k = 0; k < e.at("topk_indices")[row].size(); ++k) {
          const auto id = e.at("topk_indices")[row][k].get<std::size_t>();
          const double expected = score_value(e.at("topk_values")[row][k]);
          if (!std::isfinite(expected)) continue;
          EXPECT_NEAR(score_value(values.at(id)), expected, 1e-4) << "step " << s << " row " << row << " id " << id;
        }
      }
    }
    if (c.contains("sequences_scores")) {
      ASSERT_TRUE(got.contains("sequences_scores"));
      ASSERT_EQ(got.at("sequences_scores").size(), c.at("sequences_scores").size());
      for (std::size_t k = 0; k < c.at("sequences_scores").size(); ++k)
        EXPECT_NEAR(score_value(got.at("sequences_scores")[k]), c.at("sequences_scores")[k].get<double>(), 1e-4);
    } else {
      EXPECT_FALSE(got.contains("sequences_scores"));
    }
  }
  fs::remove_all(tmp);
}

}  // namespace

TEST(TextGenerationCli, GenerateReproducesReferenceCases) {
  ORTFORMERS_REQUIRE_CLI();
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  check_generate_cases(fixtures, "gpt2-tiny", {"greedy", "greedy_suppress", "beam4", "group_beam4"});
  check_generate_cases(fixtures, "llama-tiny", {"greedy_repetition_penalty", "beam3_never"});
}

// A `text` line is tokenized as tokenizer(text) (special tokens, left padding for a list): the batch case again.
TEST(TextGenerationCli, GenerateFromText) {
  ORTFORMERS_REQUIRE_CLI();
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  for (const char* name : {"gpt2-tiny", "llama-tiny"}) {
    const Json ref = read_json_file(fixtures / "reference" / (std::string(name) + ".json"));
    const Json texts = {"Hello, my dog is cute and", "The capital of France is",
                        "Once upon a time, in a faraway land, there lived a"};
    const fs::path tmp = ortformers::testing::make_temp_dir("textgen_cli");
    const auto file = write_lines(tmp, "in.jsonl", {{{"text", texts}}, {{"text", texts[0]}}});
    const auto r = run_cli("generate --model " + shell_quote((fixtures / "onnx" / name).string()) + " --inputs " +
                           shell_quote(file.string()) + " --option max_new_tokens=10 --option do_sample=false");
    ASSERT_EQ(r.status, 0) << r.raw;
    ASSERT_EQ(r.lines.size(), 2u);
    for (const auto& c : ref.at("generate")) {
      if (c.at("id") != "greedy") continue;
      EXPECT_EQ(r.lines[c.at("input") == "batch" ? 0 : 1], Json({{"sequences", c.at("sequences")}})) << name;
    }
    fs::remove_all(tmp);
  }
}

TEST(TextGenerationCli, GenerateErrors) {
  ORTFORMERS_REQUIRE_CLI();
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const std::string model = shell_quote((fixtures / "onnx" / "gpt2-tiny").string());
  const fs::path tmp = ortformers::testing::make_temp_dir("textgen_cli");
  for (const Json& bad :
       {Json("just a string"), Json({{"prompt", "x"}}), Json({{"input_ids", {{1, 2}, {3}}}}),
        Json({{"text", "hi"}, {"parameters", {{"no_such_kwarg", 1}}}}),
        Json({{"input_ids", {1, 2}}, {"attention_mask", {1}}}), Json({{"input_ids", {1, 99999999}}})}) {
    const auto file = write_lines(tmp, "bad.jsonl", {bad});
    const auto r = run_cli("generate --model " + model + " --inputs " + shell_quote(file.string()));
    EXPECT_NE(r.status, 0) << bad.dump();
    EXPECT_TRUE(r.lines.empty()) << bad.dump();
  }
  fs::remove_all(tmp);
}

// `run text-generation`: one JSON line per input, the pipeline's answer (string entries of the reference).
TEST(TextGenerationCli, RunReproducesPipelineEntries) {
  ORTFORMERS_REQUIRE_CLI();
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  for (const char* name : {"gpt2-tiny", "llama-tiny"}) {
    const Json ref = read_json_file(fixtures / "reference" / (std::string(name) + ".json"));
    const fs::path tmp = ortformers::testing::make_temp_dir("textgen_cli");
    int checked = 0;
    for (const auto& e : ref.at("pipelines").at("text-generation")) {
      std::string args = "run text-generation --model " + shell_quote((fixtures / "onnx" / name).string());
      std::vector<Json> lines;
      Json expected = Json::array();
      if (e.at("input").is_array()) {  // one line per prompt: one answer line each
        for (std::size_t i = 0; i < e.at("input").size(); ++i) {
          lines.push_back(e.at("input")[i]);
          expected.push_back(e.at("output")[i]);
        }
      } else {
        lines.push_back(e.at("input"));
        expected.push_back(e.at("output"));
      }
      for (const auto& [k, v] : e.at("kwargs").items()) args += " --option " + shell_quote(k + "=" + v.dump());
      const auto file = write_lines(tmp, "in.jsonl", lines);
      const auto r = run_cli(args + " --inputs " + shell_quote(file.string()));
      ASSERT_EQ(r.status, 0) << args;
      EXPECT_EQ(Json(r.lines), expected) << name << " " << e.at("kwargs").dump();
      ++checked;
    }
    EXPECT_EQ(checked, 7);
    fs::remove_all(tmp);
  }
}

// --stream prints what TextStreamer prints: the decoded sequence (prompt included), then a newline.
TEST(TextGenerationCli, StreamEqualsNonStreamedText) {
  ORTFORMERS_REQUIRE_CLI();
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  for (const char* name : {"gpt2-tiny", "llama-tiny"}) {
    const fs::path dir = fixtures / "onnx" / name;
    const auto tokenizer = tokenizers::AutoTokenizer::from_pretrained(dir);
    const fs::path tmp = ortformers::testing::make_temp_dir("textgen_cli");
    const auto file = write_lines(tmp, "in.jsonl",
                                  {{{"text", "Hello, my dog is cute and"}, {"parameters", {{"max_new_tokens", 16}}}}});
    const std::string base =
        "generate --model " + shell_quote(dir.string()) + " --inputs " + shell_quote(file.string());
    const auto plain = run_cli(base);
    ASSERT_EQ(plain.status, 0);
    ASSERT_EQ(plain.lines.size(), 1u);
    const auto ids = plain.lines[0].at("sequences")[0].get<std::vector<std::int64_t>>();
    const auto streamed = run_cli(base + " --stream");
    ASSERT_EQ(streamed.status, 0);
    EXPECT_EQ(streamed.raw, tokenizer.decode(ids, true) + "\n") << name;
    // --skip-prompt: only the new text.
    const auto new_only = run_cli(base + " --stream --skip-prompt");
    ASSERT_EQ(new_only.status, 0);
    EXPECT_LT(new_only.raw.size(), streamed.raw.size());
    EXPECT_TRUE(streamed.raw.ends_with(new_only.raw)) << name;
    fs::remove_all(tmp);
  }
}

// `chat` with piped stdin: one streamed answer per user line, equal to the pipeline's chat answer for the
// conversation so far; /reset starts over.
TEST(TextGenerationCli, ChatWithPipedInput) {
  ORTFORMERS_REQUIRE_CLI();
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  // The GPT-2 export with a ChatML chat template in its tokenizer_config.json (the fixture folder has none).
  const fs::path src = fixtures / "onnx" / "gpt2-tiny";
  const fs::path dir = ortformers::testing::make_temp_dir("textgen_chat");
  for (const auto& e : fs::directory_iterator(src))
    if (e.path().filename() != "tokenizer_config.json") fs::create_symlink(e.path(), dir / e.path().filename());
  Json tc = read_json_file(src / "tokenizer_config.json");
  tc["chat_template"] =
      "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + "
      "'\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
  std::ofstream(dir / "tokenizer_config.json") << tc.dump(2);

  pipelines::TextGenerationPipeline pipe(dir.string());
  auto answer = [&](const Json& messages) {
    return *pipe.chat(messages, pipe.parse_kwargs({{"max_new_tokens", 8}, {"return_full_text", false}}))
                .at(0)
                .generated_text;
  };
  Json history = {{{"role", "user"}, {"content", "Hi there"}}};
  const std::string a1 = answer(history);
  history.push_back({{"role", "assistant"}, {"content", a1}});
  history.push_back({{"role", "user"}, {"content", "How are you?"}});
  const std::string a2 = answer(history);
  const std::string a3 = answer(Json::array({{{"role", "user"}, {"content", "Hello"}}}));

  std::ofstream(dir / "stdin.txt") << "Hi there\nHow are you?\n/reset\nHello\n";
  const auto piped = run_cli("chat --model " + shell_quote(dir.string()) + " --max-new-tokens 8 < " +
                             shell_quote((dir / "stdin.txt").string()));
  ASSERT_EQ(piped.status, 0) << piped.raw;
  EXPECT_EQ(piped.raw, a1 + "\n" + a2 + "\n" + a3 + "\n");
  fs::remove_all(dir);
}
