// `ortformers run <task> TEXT` without --model (pipelines::pipeline(task)): transformers 4.31's default model for the
// task, at its default revision, resolved through the hub cache from the FakeHub; a repo with only PyTorch weights is
// exported natively, a repo with an ONNX file is used as is; stderr says which model was chosen, as transformers
// warns; offline without the model cached, a clear error naming the id and HF_HUB_OFFLINE.
#include <sys/wait.h>

#include <cmath>
#include <cstdlib>

#include "hub_test_util.hpp"
#include "ortformers/core/json.hpp"
#include "support/cli.hpp"

namespace fs = std::filesystem;
using namespace ortformers;
using namespace ortformers::hub::testing;
using ortformers::testing::shell_quote;

namespace {

struct CliRun {
  int status = -1;
  std::string out, err;
};

class DefaultModel : public HubTest {
 protected:
  // The CLI with the FakeHub as endpoint, this test's HF cache and an export / ORT-format cache inside root_.
  CliRun run(const std::string& args, const std::string& extra_env = "") {
    const std::string env = "HF_ENDPOINT=" + shell_quote(hub_.endpoint()) +
                            " HF_HUB_CACHE=" + shell_quote(cache_.string()) +
                            " HF_HOME=" + shell_quote((root_ / "hf_home").string()) +
                            " HF_TOKEN_PATH=" + shell_quote((root_ / "no_token").string()) +
                            " ORTFORMERS_CACHE=" + shell_quote((root_ / "ortformers").string()) + " " + extra_env;
    const std::string cmd = env + " " + shell_quote(ORTFORMERS_CLI_PATH) + " " + args + " >" +
                            shell_quote((root_ / "out").string()) + " 2>" + shell_quote((root_ / "err").string());
    const int rc = std::system(cmd.c_str());
    CliRun r;
    r.status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
    r.out = slurp(root_ / "out");
    r.err = slurp(root_ / "err");
    return r;
  }
};

bool cli_built() {
  return !std::string(ORTFORMERS_CLI_PATH).empty() && fs::exists(ORTFORMERS_CLI_PATH);
}

}  // namespace

TEST_F(DefaultModel, SentimentAnalysisExportsTheDefaultCheckpoint) {
  if (!cli_built()) GTEST_SKIP() << "ortformers CLI not built";
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  // The default repo with only PyTorch weights (a tiny stand-in), reachable at transformers' default revision.
  hub_.add_commit_from_folder("distilbert-base-uncased-finetuned-sst-2-english",
                              fixtures / "models" / "bert-tiny-seqcls", {"main", "af0f99b"});
  const std::string text = shell_quote("I love this movie!");
  const auto r = run("run sentiment-analysis " + text);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find("No model was supplied, defaulted to distilbert-base-uncased-finetuned-sst-2-english and "
                       "revision af0f99b (https://huggingface.co/distilbert-base-uncased-finetuned-sst-2-english)"),
            std::string::npos)
      << r.err;
  EXPECT_GT(hub_.count("GET", "af0f99b"), 0u) << "the default revision is the one asked for";
  EXPECT_TRUE(fs::exists(storage("distilbert-base-uncased-finetuned-sst-2-english") / "refs" / "af0f99b"));
  // The same answer as the model folder given explicitly (the fixture's optimum export).
  const auto direct = run("run text-classification --model " +
                          shell_quote((fixtures / "onnx" / "bert-tiny-seqcls").string()) + " " + text);
  ASSERT_EQ(direct.status, 0) << direct.err;
  const Json a = Json::parse(r.out), b = Json::parse(direct.out);
  EXPECT_EQ(a.at(0).at("label"), b.at(0).at("label"));
  EXPECT_NEAR(a.at(0).at("score").get<double>(), b.at(0).at("score").get<double>(), 1e-4);
  // Now cached: offline works, with no request.
  hub_.clear_requests();
  const auto offline = run("run sentiment-analysis " + text, "HF_HUB_OFFLINE=1");
  ASSERT_EQ(offline.status, 0) << offline.err;
  EXPECT_EQ(offline.out, r.out);
  EXPECT_TRUE(hub_.requests().empty());
}

TEST_F(DefaultModel, QuestionAnsweringUsesTheRepoOnnxFile) {
  if (!cli_built()) GTEST_SKIP() << "ortformers CLI not built";
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  hub_.add_commit_from_folder(
      "distilbert-base-cased-distilled-squad", fixtures / "onnx" / "distilbert-tiny-qa", {"main", "626af31"},
      {{"model.safetensors", slurp(fixtures / "models" / "distilbert-tiny-qa" / "model.safetensors")}});
  const std::string input = R"({"question": "Where does John work?", "context": "John works at Google in Paris."})";
  write_text_file(root_ / "qa.jsonl", input + "\n");
  const auto r = run("run question-answering --inputs " + shell_quote((root_ / "qa.jsonl").string()));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find("defaulted to distilbert-base-cased-distilled-squad and revision 626af31"), std::string::npos)
      << r.err;
  EXPECT_EQ(hub_.count("GET", "model.safetensors"), 0u) << "the ONNX file is used, no checkpoint downloaded";
  const Json answer = Json::parse(r.out);
  EXPECT_TRUE(answer.contains("answer") && answer.contains("score")) << r.out;
}

TEST_F(DefaultModel, OfflineWithoutCacheNamesTheIdAndHfHubOffline) {
  if (!cli_built()) GTEST_SKIP() << "ortformers CLI not built";
  const auto r = run("run sentiment-analysis hello", "HF_HUB_OFFLINE=1");
  EXPECT_NE(r.status, 0);
  EXPECT_GT(r.status, 0) << "crashed?";
  EXPECT_TRUE(r.out.empty());
  EXPECT_NE(r.err.find("distilbert-base-uncased-finetuned-sst-2-english"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("HF_HUB_OFFLINE"), std::string::npos) << r.err;
  EXPECT_TRUE(hub_.requests().empty());
  // A task without a default model (not a transformers task) asks for one.
  const auto st = run("run sentence-embeddings hello");
  EXPECT_NE(st.status, 0);
  EXPECT_NE(st.err.find("no model given"), std::string::npos) << st.err;
}
