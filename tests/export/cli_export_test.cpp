// `ortformers export` end to end (skipped when the CLI binary has not been built).
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "support/fixtures.hpp"

namespace fs = std::filesystem;

namespace {

#ifndef ORTFORMERS_CLI_PATH
#define ORTFORMERS_CLI_PATH ""
#endif

std::pair<int, std::string> run(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  if (p == nullptr) return {-1, ""};
  char buf[4096];
  while (std::fgets(buf, sizeof buf, p) != nullptr) out += buf;
  const int status = ::pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

TEST(CliExport, ExportsAndPrintsASummary) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const fs::path cli = ORTFORMERS_CLI_PATH;
  if (cli.empty() || !fs::exists(cli)) GTEST_SKIP() << "ortformers CLI not built";
  const auto out = ortformers::testing::make_temp_dir("cli-export") / "qa";
  auto [rc, text] = run(cli.string() + " export --model " + (fixtures / "models" / "distilbert-tiny-qa").string() +
                        " --optimize " + out.string());
  ASSERT_EQ(rc, 0) << text;
  EXPECT_NE(text.find("architecture: distilbert"), std::string::npos) << text;
  EXPECT_NE(text.find("question-answering"), std::string::npos) << text;
  EXPECT_NE(text.find("start_logits, end_logits"), std::string::npos) << text;
  EXPECT_NE(text.find("input_ids, attention_mask"), std::string::npos) << text;
  EXPECT_TRUE(fs::exists(out / "model.onnx"));
  EXPECT_TRUE(fs::exists(out / "tokenizer_config.json"));
}

TEST(CliExport, UnknownModelTypeFails) {
  const fs::path cli = ORTFORMERS_CLI_PATH;
  if (cli.empty() || !fs::exists(cli)) GTEST_SKIP() << "ortformers CLI not built";
  const auto dir = ortformers::testing::make_temp_dir("cli-export-bad");
  std::ofstream(dir / "config.json") << R"({"model_type": "reformer"})";
  auto [rc, text] = run(cli.string() + " export --model " + dir.string() + " " + (dir / "out").string());
  EXPECT_NE(rc, 0);
  EXPECT_NE(text.find("model_type 'reformer'"), std::string::npos) << text;
  EXPECT_NE(text.find("bert, roberta"), std::string::npos) << text;
}

TEST(CliExport, RejectsBadOpset) {
  const fs::path cli = ORTFORMERS_CLI_PATH;
  if (cli.empty() || !fs::exists(cli)) GTEST_SKIP() << "ortformers CLI not built";
  auto [rc, text] = run(cli.string() + " export --model x --opset 9 out");
  EXPECT_NE(rc, 0) << text;
}

}  // namespace
