// The built CLI: `ortformers tokenize` / `ortformers decode` against the Rust reference outputs.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "support/cli.hpp"
#include "support/fixtures.hpp"
#include "tokenizers/tokenizer_test_util.hpp"

using namespace ortformers;
using ortformers::testing::shell_quote;

namespace {

// (exit status, stdout) of `ortformers <args>`.
std::pair<int, std::string> run_cli(const std::string& args) {
  auto r = ortformers::testing::run_cli(args);
  return {r.status, r.raw};
}

std::vector<Json> lines(const std::string& out) {
  std::vector<Json> v;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) v.push_back(Json::parse(line));
  return v;
}

#define REQUIRE_CLI()                                                            \
  if (std::string(ORTFORMERS_CLI_PATH).empty()) GTEST_SKIP() << "CLI not built"; \
  if (!std::filesystem::exists(ORTFORMERS_CLI_PATH)) GTEST_SKIP() << "CLI not built at " << ORTFORMERS_CLI_PATH

TEST(TokenizeCli, SinglesMatchTheRustLibrary) {
  REQUIRE_CLI();
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  for (const char* name : {"bert-base-uncased", "roberta-base", "t5-small"}) {
    const auto dir = fixtures / "tokenizers" / name;
    const Json ref = read_json_file(dir / "reference.json");
    const auto tmp = ortformers::testing::make_temp_dir("tok_cli");
    std::ofstream f(tmp / "in.jsonl");
    std::vector<const Json*> cases;
    for (const auto& c : ref["default"]["singles"]) {
      f << Json(c["text"]).dump() << "\n";
      cases.push_back(&c);
    }
    for (const auto& c : ref["default"]["pairs"]) {
      f << Json({{"text", c["a"]}, {"text_pair", c["b"]}}).dump() << "\n";
      cases.push_back(&c);
    }
    f.close();
    const auto [rc, out] = run_cli("tokenize --tokenizer " + shell_quote((dir / "tokenizer.json").string()) +
                                   " --inputs " + shell_quote((tmp / "in.jsonl").string()));
    ASSERT_EQ(rc, 0) << name;
    const auto got = lines(out);
    ASSERT_EQ(got.size(), cases.size()) << name;
    for (std::size_t i = 0; i < got.size(); ++i) {
      Json a = got[i];
      a["n_overflowing"] = a["overflowing"].size();
      EXPECT_EQ(tokenizers::testing::compare_encoding((*cases[i])["with_special"], a), "") << name << " line " << i;
    }
  }
}

TEST(TokenizeCli, TruncationStrideAndPadding) {
  REQUIRE_CLI();
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const auto dir = fixtures / "tokenizers" / "bert-base-uncased";
  const Json ref = read_json_file(dir / "reference.json");
  const std::string tok = shell_quote((dir / "tokenizer.json").string());
  int checked = 0;
  for (const auto& c : ref["truncation"]["cases"]) {
    if (c["result"].contains("error") || c["direction"] != "right") continue;
    const Json& in = c["input"];
    std::string args = "tokenize --tokenizer " + tok + " --max-length 16 --stride " + c["stride"].dump() +
                       " --truncation " + c["strategy"].get<std::string>();
    if (in.contains("b"))
      args += " --pair " + shell_quote(in["b"].get<std::string>()) + " " + shell_quote(in["a"].get<std::string>());
    else
      args.append(" ").append(shell_quote(in["text"].get<std::string>()));
    const auto [rc, out] = run_cli(args);
    ASSERT_EQ(rc, 0) << args;
    const auto got = lines(out);
    ASSERT_EQ(got.size(), 1u);
    Json a = got[0];
    a["n_overflowing"] = a["overflowing"].size();
    EXPECT_EQ(tokenizers::testing::compare_encoding(c["result"], a, 2), "") << args;
    ++checked;
  }
  EXPECT_GT(checked, 10);
  // Padding to the longest of the batch, multiple of 8.
  for (const auto& c : ref["padding"]["cases"]) {
    if (c["name"] != "longest_multiple_of_8") continue;
    std::string args = "tokenize --tokenizer " + tok + " --padding longest --pad-to-multiple-of 8";
    for (const auto& in : c["inputs"]) args.append(" ").append(shell_quote(in["text"].get<std::string>()));
    const auto [rc, out] = run_cli(args);
    ASSERT_EQ(rc, 0);
    const auto got = lines(out);
    ASSERT_EQ(got.size(), c["encodings"].size());
    for (std::size_t i = 0; i < got.size(); ++i) {
      Json a = got[i];
      a["n_overflowing"] = a["overflowing"].size();
      EXPECT_EQ(tokenizers::testing::compare_encoding(c["encodings"][i], a), "") << i;
    }
  }
}

TEST(TokenizeCli, DecodeAndErrors) {
  REQUIRE_CLI();
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const auto dir = fixtures / "tokenizers" / "roberta-base";
  const Json ref = read_json_file(dir / "reference.json");
  const Json& c = ref["default"]["singles"][0]["with_special"];
  const std::string tok = shell_quote((dir / "tokenizer.json").string());
  auto [rc, out] = run_cli("decode --tokenizer " + tok + " --keep-special-tokens " + shell_quote(c["ids"].dump()));
  ASSERT_EQ(rc, 0);
  EXPECT_EQ(lines(out).at(0), c["decode"]["skip_special_tokens_false"]);
  std::tie(rc, out) = run_cli("decode --tokenizer " + tok + " " + shell_quote(c["ids"].dump()));
  ASSERT_EQ(rc, 0);
  EXPECT_EQ(lines(out).at(0), c["decode"]["skip_special_tokens_true"]);
  // An impossible truncation (stride >= max_length minus the special tokens) is an error, not a crash.
  std::tie(rc, out) = run_cli("tokenize --tokenizer " + tok + " --max-length 6 --stride 4 'a b c d e f g h i j k'");
  EXPECT_EQ(rc, 2);
  std::tie(rc, out) = run_cli("tokenize --tokenizer /nonexistent/tokenizer.json hello");
  EXPECT_EQ(rc, 2);
}

}  // namespace
