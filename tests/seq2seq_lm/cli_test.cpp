// The seq2seq CLI: `ortformers generate` on the t5-tiny / bart-tiny exports reproduces every reference `generate`
// case (sequences, decoder start included; T5's sequences_scores), with input_ids + attention_mask lines and with
// "text" lines; `ortformers run text2text-generation | summarization | translation_en_to_de ...` the pipeline entries.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "support/cli.hpp"
#include "support/fixtures.hpp"

using namespace ortformers;
namespace fs = std::filesystem;
using ortformers::testing::run_cli;
using ortformers::testing::shell_quote;
using ortformers::testing::write_lines;

namespace {}  // namespace

TEST(Seq2SeqCli, GenerateReproducesEveryCase) {
  ORTFORMERS_REQUIRE_CLI();
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  for (const std::string name : {"t5-tiny", "bart-tiny"}) {
    const Json ref = read_json_file(fixtures / "reference" / (name + ".json"));
    std::vector<Json> lines;
    for (const auto& c : ref.at("generate")) {
      Json line = ref.at("generate_inputs").at(c.at("input").get<std::string>());
      line["parameters"] = c.at("kwargs");
      // Scores of BART's 50265-token vocabulary make lines of megabytes: T5's only (the API tests cover BART's).
      if (name == "t5-tiny") line["parameters"]["output_scores"] = true;
      lines.push_back(line);
    }
    const fs::path tmp = ortformers::testing::make_temp_dir("seq2seq_cli");
    const auto file = write_lines(tmp, "inputs.jsonl", lines);
    const auto r = run_cli("generate --model " + shell_quote((fixtures / "onnx" / name).string()) + " --inputs " +
                           shell_quote(file.string()));
    ASSERT_EQ(r.status, 0) << r.raw;
    ASSERT_EQ(r.lines.size(), ref.at("generate").size());
    for (std::size_t i = 0; i < r.lines.size(); ++i) {
      const Json& c = ref.at("generate")[i];
      SCOPED_TRACE(name + " " + c.at("id").get<std::string>() + " " + c.at("input").get<std::string>());
      EXPECT_EQ(r.lines[i].at("sequences"), c.at("sequences"));
      if (name != "t5-tiny") continue;
      EXPECT_EQ(r.lines[i].at("scores").size(), c.at("scores").size());
      if (c.contains("sequences_scores")) {
        const auto got = r.lines[i].at("sequences_scores").get<std::vector<double>>();
        const auto want = c.at("sequences_scores").get<std::vector<double>>();
        ASSERT_EQ(got.size(), want.size());
        for (std::size_t k = 0; k < got.size(); ++k) EXPECT_NEAR(got[k], want[k], 1e-4);
      }
    }
    // "text" lines: tokenizer(texts, padding=True) gives the same encoder inputs as the reference's.
    const Json& fwd = ref.at("forward")[1];  // the batch entry: its texts and right-padded inputs
    const auto text_file = write_lines(tmp, "text.jsonl",
                                       {Json{{"text", fwd.at("texts")}, {"parameters", {{"max_new_tokens", 4}}}},
                                        Json{{"input_ids", fwd.at("inputs").at("input_ids")},
                                             {"attention_mask", fwd.at("inputs").at("attention_mask")},
                                             {"parameters", {{"max_new_tokens", 4}}}}});
    const auto t = run_cli("generate --model " + shell_quote((fixtures / "onnx" / name).string()) + " --inputs " +
                           shell_quote(text_file.string()));
    ASSERT_EQ(t.status, 0) << t.raw;
    ASSERT_EQ(t.lines.size(), 2u);
    EXPECT_EQ(t.lines[0], t.lines[1]);
    fs::remove_all(tmp);
  }
}

TEST(Seq2SeqCli, RunReproducesPipelineEntries) {
  ORTFORMERS_REQUIRE_CLI();
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  int checked = 0;
  for (const std::string name : {"t5-tiny", "bart-tiny"}) {
    const Json ref = read_json_file(fixtures / "reference" / (name + ".json"));
    const fs::path tmp = ortformers::testing::make_temp_dir("seq2seq_cli");
    for (const auto& [task, entries] : ref.at("pipelines").items()) {
      for (const auto& e : entries) {
        std::string args = "run " + task + " --model " + shell_quote((fixtures / "onnx" / name).string());
        for (const auto& [k, v] : e.at("kwargs").items()) args += " --option " + shell_quote(k + "=" + v.dump());
        const auto file = write_lines(tmp, "in.jsonl", {e.at("input")});
        const auto r = run_cli(args + " --inputs " + shell_quote(file.string()));
        ASSERT_EQ(r.status, 0) << args;
        ASSERT_EQ(r.lines.size(), 1u) << args;
        EXPECT_EQ(r.lines[0], e.at("output")) << name << " " << task << " " << e.at("kwargs").dump();
        ++checked;
      }
    }
    fs::remove_all(tmp);
  }
  EXPECT_EQ(checked, 12);
  // An invalid translation task: transformers' KeyError text, exit status non-zero.
  const auto bad =
      run_cli("run translation_en_de --model " + shell_quote((fixtures / "onnx" / "t5-tiny").string()) + " hello");
  EXPECT_NE(bad.status, 0);
}

// `info` on a seq2seq export: the encoder, every graph of the folder, the detected task.
TEST(Seq2SeqCli, InfoShowsEncoderAndDecoders) {
  ORTFORMERS_REQUIRE_CLI();
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const auto r = run_cli("info --model " + shell_quote((fixtures / "onnx" / "bart-tiny").string()));
  ASSERT_EQ(r.status, 0) << r.raw;
  const Json info = Json::parse(r.raw);
  EXPECT_EQ(info.at("task"), "text2text-generation");
  EXPECT_NE(info.at("onnx_file").get<std::string>().find("encoder_model.onnx"), std::string::npos);
  EXPECT_NE(info.at("onnx_files").dump().find("decoder_model_merged.onnx"), std::string::npos) << info.dump();
}
