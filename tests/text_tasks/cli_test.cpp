// `ortformers run <task>` for the text task pipelines: one JSON line per input, equal to the transformers result.
#include <gtest/gtest.h>

#include <fstream>

#include "support/cli.hpp"
#include "support/fixtures.hpp"

using namespace ortformers;
namespace fs = std::filesystem;
using ortformers::testing::run_cli;
using ortformers::testing::shell_quote;

namespace {

void expect_near(const Json& a, const Json& e, const std::string& path) {
  if (e.is_number_float()) {
    ASSERT_TRUE(a.is_number()) << path;
    EXPECT_NEAR(a.get<double>(), e.get<double>(), 1e-4) << path;
  } else if (e.is_array()) {
    ASSERT_TRUE(a.is_array()) << path << " " << a.dump();
    ASSERT_EQ(a.size(), e.size()) << path;
    for (std::size_t i = 0; i < e.size(); ++i) expect_near(a[i], e[i], path + "[" + std::to_string(i) + "]");
  } else if (e.is_object()) {
    ASSERT_TRUE(a.is_object()) << path << " " << a.dump();
    EXPECT_EQ(a.size(), e.size()) << path;
    for (auto it = e.begin(); it != e.end(); ++it) {
      ASSERT_TRUE(a.contains(it.key())) << path << "." << it.key();
      expect_near(a.at(it.key()), it.value(), path + "." + it.key());
    }
  } else {
    EXPECT_EQ(a, e) << path;
  }
}

// Runs every (string or object) entry of a reference pipelines section with the given kwargs through the CLI.
void check_section(const fs::path& fixtures, const std::string& name, const std::string& task,
                   const std::string& section, const Json& kwargs) {
  const Json ref = read_json_file(fixtures / "reference" / (name + ".json"));
  const fs::path tmp = ortformers::testing::make_temp_dir("text_cli");
  std::ofstream jsonl(tmp / "inputs.jsonl");
  std::vector<Json> expected;
  for (const auto& e : ref.at("pipelines").at(section)) {
    if (e.at("kwargs") != kwargs || e.at("input").is_array()) continue;
    jsonl << e.at("input").dump() << "\n";
    expected.push_back(e.at("output"));
  }
  jsonl.close();
  ASSERT_FALSE(expected.empty());
  std::string args = "run " + task + " --model " + shell_quote((fixtures / "onnx" / name).string()) + " --inputs " +
                     shell_quote((tmp / "inputs.jsonl").string());
  for (auto it = kwargs.begin(); it != kwargs.end(); ++it) {
    args += " --option " + shell_quote(it.key() + "=" + it.value().dump());
  }
  const auto r = run_cli(args);
  EXPECT_EQ(r.status, 0) << args;
  ASSERT_EQ(r.lines.size(), expected.size()) << args << "\n" << r.raw;
  for (std::size_t i = 0; i < expected.size(); ++i)
    expect_near(r.lines[i], expected[i], task + " line " + std::to_string(i));
  fs::remove_all(tmp);
}

}  // namespace

TEST(TextTasksCli, TextClassification) {
  ORTFORMERS_REQUIRE_CLI();
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  check_section(fixtures, "bert-tiny-seqcls", "text-classification", "text-classification",
                {{"top_k", nullptr}, {"truncation", true}});
  check_section(fixtures, "roberta-tiny-seqcls", "sentiment-analysis", "text-classification", {{"top_k", nullptr}});
}

TEST(TextTasksCli, TokenClassification) {
  ORTFORMERS_REQUIRE_CLI();
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  check_section(fixtures, "bert-tiny-ner", "ner", "token-classification-with-offsets",
                {{"aggregation_strategy", "first"}});
}

TEST(TextTasksCli, QuestionAnswering) {
  ORTFORMERS_REQUIRE_CLI();
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  check_section(fixtures, "bert-tiny-qa", "question-answering", "question-answering", {{"top_k", 3}});
}

TEST(TextTasksCli, FillMaskAndZeroShot) {
  ORTFORMERS_REQUIRE_CLI();
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  check_section(fixtures, "bert-tiny-mlm", "fill-mask", "fill-mask", {{"top_k", 3}});
  check_section(fixtures, "bert-tiny-nli", "zero-shot-classification", "zero-shot-classification",
                {{"candidate_labels", {"travel", "sports", "technology", "politics"}}, {"multi_label", true}});
}

TEST(TextTasksCli, PlainTextArgumentAndErrors) {
  ORTFORMERS_REQUIRE_CLI();
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const std::string model = shell_quote((fixtures / "onnx" / "bert-tiny-mlm").string());
  const auto ok = run_cli("run fill-mask --model " + model + " --option top_k=1 'Hello [MASK]!'");
  EXPECT_EQ(ok.status, 0);
  ASSERT_EQ(ok.lines.size(), 1u);
  EXPECT_EQ(ok.lines[0].at(0).at("token_str"), "outlaws");
  const auto bad = run_cli("run fill-mask --model " + model + " 'no mask here'");
  EXPECT_NE(bad.status, 0);
  const auto no_labels = run_cli("run zero-shot-classification --model " +
                                 shell_quote((fixtures / "onnx" / "bert-tiny-nli").string()) + " 'Some text'");
  EXPECT_NE(no_labels.status, 0);
}
