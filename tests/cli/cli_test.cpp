// The CLI contract of the foundation issue: run, info, forward, bench; errors on stderr with a non-zero exit.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "support/fixtures.hpp"

using namespace ortformers;
namespace fs = std::filesystem;

namespace {

struct Result {
  int status = -1;
  std::string out, err;
  std::vector<Json> lines() const {
    std::vector<Json> v;
    std::istringstream in(out);
    std::string line;
    while (std::getline(in, line))
      if (!line.empty()) v.push_back(Json::parse(line));
    return v;
  }
};

Result run_cli(const std::string& args) {
  const std::string cli = ORTFORMERS_CLI_PATH;
  auto dir = ortformers::testing::make_temp_dir("cli");
  const std::string cmd = cli + " " + args + " >" + (dir / "out").string() + " 2>" + (dir / "err").string();
  const int rc = std::system(cmd.c_str());
  Result r;
  r.status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  r.out = read_text_file(dir / "out");
  r.err = read_text_file(dir / "err");
  fs::remove_all(dir);
  return r;
}

std::string q(const fs::path& p) {
  std::string s = "'";  // appended piecewise: GCC 12 warns (-Wrestrict, a false positive) on "'" + std::string&&
  s += p.string();
  s += '\'';
  return s;
}

double max_diff_nested(const Json& a, const Json& b) {
  if (a.is_number() && b.is_number()) return std::fabs(a.get<double>() - b.get<double>());
  if (!a.is_array() || !b.is_array() || a.size() != b.size()) return INFINITY;
  double m = 0;
  for (std::size_t i = 0; i < a.size(); ++i) m = std::max(m, max_diff_nested(a[i], b[i]));
  return m;
}

TEST(Cli, RunFeatureExtractionPrintsThePipelineOutput) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const Json ref = read_json_file(fixtures / "reference" / "bert-tiny.json");
  const auto& cases = ref.at("pipelines").at("feature-extraction");
  auto dir = ortformers::testing::make_temp_dir("cli-in");
  {
    std::ofstream f(dir / "in.jsonl");
    f << Json(cases[0].at("input")).dump() << "\n\n" << Json{{"text", cases[1].at("input")}}.dump() << "\n";
  }
  auto r = run_cli("run feature-extraction --model " + q(fixtures / "onnx" / "bert-tiny") +
                   " --option truncation=true --inputs " + q(dir / "in.jsonl") + " " +
                   q(cases[2].at("input").get<std::string>()));
  ASSERT_EQ(r.status, 0) << r.err;
  auto lines = r.lines();
  ASSERT_EQ(lines.size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_LE(max_diff_nested(lines[i], cases[i].at("output")), 1e-4);
  fs::remove_all(dir);
}

TEST(Cli, RunSentenceEmbeddingsPrintsFlatVectors) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const Json ref = read_json_file(fixtures / "reference" / "minilm-tiny-st.json");
  const auto& st = ref.at("pipelines").at("sentence-embeddings");
  auto r = run_cli("run sentence-embeddings --model " + q(fixtures / "onnx" / "minilm-tiny-st") + " --tokenizer " +
                   q(fixtures / "models" / "minilm-tiny-st") + " 'Hello world!' " +
                   q(st.at("inputs")[1].get<std::string>()));
  ASSERT_EQ(r.status, 0) << r.err;
  auto lines = r.lines();
  ASSERT_EQ(lines.size(), 2u);
  const auto& data = st.at("embeddings").at("data");
  for (std::size_t row = 0; row < 2; ++row) {
    ASSERT_EQ(lines[row].size(), 32u);
    for (std::size_t k = 0; k < 32; ++k)
      EXPECT_NEAR(lines[row][k].get<double>(), data[row * 32 + k].get<double>(), 1e-4);
  }
  // Override: no normalisation -> norm differs from 1.
  auto r2 = run_cli("run sentence-embeddings --model " + q(fixtures / "onnx" / "minilm-tiny-st") +
                    " --option pooling=cls --option normalize=false 'Hello world!'");
  ASSERT_EQ(r2.status, 0) << r2.err;
  double n2 = 0;
  const auto lines2 = r2.lines();
  ASSERT_FALSE(lines2.empty());
  for (const auto& v : lines2.at(0)) n2 += v.get<double>() * v.get<double>();
  EXPECT_GT(std::fabs(std::sqrt(n2) - 1), 1e-3);
}

TEST(Cli, FloatsRoundTripExactly) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  auto r = run_cli("run sentence-embeddings --model " + q(fixtures / "onnx" / "minilm-tiny-st") + " 'Hello'");
  ASSERT_EQ(r.status, 0) << r.err;
  // Every printed number parses back to a float32 that prints the same way.
  const auto lines = r.lines();
  ASSERT_FALSE(lines.empty());
  for (const auto& v : lines.at(0)) {
    const float f = v.get<float>();
    EXPECT_EQ(static_cast<double>(f), v.get<double>());
  }
}

TEST(Cli, InfoDescribesTheGraph) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  auto r = run_cli("info --model " + q(fixtures / "onnx" / "bert-tiny"));
  ASSERT_EQ(r.status, 0) << r.err;
  const Json j = Json::parse(r.out);
  EXPECT_EQ(j.at("model_type"), "bert");
  EXPECT_EQ(j.at("task"), "feature-extraction");
  EXPECT_EQ(j.at("inputs")[0].at("name"), "input_ids");
  EXPECT_EQ(j.at("inputs")[0].at("dtype"), "int64");
  EXPECT_EQ(j.at("inputs")[0].at("shape"), (Json{"batch_size", "sequence_length"}));
  EXPECT_EQ(j.at("outputs")[0].at("shape"), (Json{"batch_size", "sequence_length", 32}));
  auto r2 = run_cli("info --model " + q(fixtures / "onnx" / "bert-tiny-qa"));
  ASSERT_EQ(r2.status, 0) << r2.err;
  EXPECT_EQ(Json::parse(r2.out).at("task"), "question-answering");
}

TEST(Cli, ForwardPrintsNamedTensors) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const Json ref = read_json_file(fixtures / "reference" / "bert-tiny.json");
  const Json& tok = ref.at("tokenization")[0];
  const auto n = tok.at("input_ids").size();
  Json in = {{"input_ids", {{"shape", {1, n}}, {"data", tok.at("input_ids")}}},
             {"attention_mask", {{"shape", {1, n}}, {"data", tok.at("attention_mask")}}}};
  auto dir = ortformers::testing::make_temp_dir("fwd");
  write_text_file(dir / "in.json", in.dump());
  auto r = run_cli("forward --model " + q(fixtures / "onnx" / "bert-tiny") + " --inputs " + q(dir / "in.json"));
  ASSERT_EQ(r.status, 0) << r.err;
  const Json out = Json::parse(r.out);
  const auto ref_t = ortformers::testing::ref_tensor(ref.at("model_outputs")[0].at("outputs").at("last_hidden_state"));
  EXPECT_EQ(out.at("last_hidden_state").at("shape").get<Shape>(), ref_t.shape);
  const auto& data = out.at("last_hidden_state").at("data");
  for (std::size_t i = 0; i < ref_t.data.size(); ++i) EXPECT_NEAR(data[i].get<double>(), ref_t.data[i], 1e-4);
  // Bad shapes are a clear error.
  in["input_ids"]["shape"] = {2, n};
  write_text_file(dir / "bad.json", in.dump());
  auto bad = run_cli("forward --model " + q(fixtures / "onnx" / "bert-tiny") + " --inputs " + q(dir / "bad.json"));
  EXPECT_NE(bad.status, 0);
  EXPECT_NE(bad.err.find("input_ids"), std::string::npos) << bad.err;
  fs::remove_all(dir);
}

TEST(Cli, ErrorsGoToStderrWithNonZeroExit) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  for (const std::string& args : std::vector<std::string>{
           std::string("run feature-extraction --model /nonexistent/dir hello"),
           "run no-such-task --model " + q(fixtures / "onnx" / "bert-tiny") + " hi",
           "run feature-extraction --model " + q(fixtures / "onnx" / "bert-tiny"),
           "run feature-extraction --model " + q(fixtures / "onnx" / "bert-tiny") + " --option bogus hi",
           "run feature-extraction --model " + q(fixtures / "onnx" / "bert-tiny") + " --inputs /nonexistent.jsonl",
           // (a folder with only PyTorch weights is exported natively now: tests/cli/checkpoint_folder_test.cpp)
           "info --model " + q(fixtures / "media"),
           "forward --model " + q(fixtures / "onnx" / "bert-tiny") + " --class Nope --inputs x.json"}) {
    auto r = run_cli(args);
    EXPECT_NE(r.status, 0) << args;
    EXPECT_GT(r.status, 0) << args << " (crashed?)";
    EXPECT_TRUE(r.out.empty()) << args;
    EXPECT_NE(r.err.find("error"), std::string::npos) << args << ": " << r.err;
  }
}

// bench text-generation on the tiny Llama: every figure present and positive (speed itself is never checked here),
// and bad sizes refused.
TEST(Cli, BenchTextGenerationReportsDecodingFigures) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const std::string model = q(fixtures / "onnx" / "llama-tiny");
  auto r = run_cli(
      "bench text-generation --model " + model +
      " --threads 1 --prompt-tokens 8 --new-tokens 4 --rounds 1 --long-position 20 --decode-batch 2 --bandwidth-mib 8");
  ASSERT_EQ(r.status, 0) << r.err;
  const Json j = Json::parse(r.out);
  for (const char* k : {"prompt_tokens_per_s", "decode_tokens_per_s", "raw_session_ms_per_token", "ms_per_token_at_10",
                        "ms_per_token_at_long", "batch_decode_tokens_per_s", "peak_rss_mb", "copy_bandwidth_gb_per_s",
                        "roofline_tokens_per_s"})
    EXPECT_GT(j.at(k).get<double>(), 0) << k;
  EXPECT_EQ(j.at("weight_bytes_per_token").get<std::int64_t>() > 0, true);
  auto bad = run_cli("bench text-generation --model " + model + " --new-tokens 1");
  EXPECT_GT(bad.status, 0);
  EXPECT_NE(bad.err.find("--new-tokens"), std::string::npos) << bad.err;
}

TEST(Cli, BenchReportsPipelineAndRawSession) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  auto r = run_cli("bench feature-extraction --model " + q(fixtures / "onnx" / "bert-tiny") +
                   " --batch 2 --seq 16 --iterations 3");
  ASSERT_EQ(r.status, 0) << r.err;
  const Json j = Json::parse(r.out);
  EXPECT_EQ(j.at("iterations"), 3);
  EXPECT_GT(j.at("pipeline_ms").get<double>(), 0);
  EXPECT_GT(j.at("raw_session_ms").get<double>(), 0);
}

}  // namespace
