// A folder with only PyTorch weights (issue 23 item 4): `run`, `info` and `serve` export it natively (cached, as
// --export does), say so on stderr and go on; the library's from_pretrained keeps optimum's explicit export=true.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "ortformers/core/error.hpp"
#include "ortformers/models/sequence_classification.hpp"
#include "support/fixtures.hpp"

using namespace ortformers;
namespace fs = std::filesystem;

namespace {

struct Result {
  int status = -1;
  std::string out, err;
};

std::string q(const fs::path& p) {
  std::string s = "'";
  s += p.string();
  s += '\'';
  return s;
}

Result run_cli(const std::string& args) {
  auto dir = ortformers::testing::make_temp_dir("cli-ckpt");
  const std::string cmd =
      std::string(ORTFORMERS_CLI_PATH) + " " + args + " >" + (dir / "out").string() + " 2>" + (dir / "err").string();
  const int rc = std::system(cmd.c_str());
  Result r;
  r.status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  r.out = read_text_file(dir / "out");
  r.err = read_text_file(dir / "err");
  fs::remove_all(dir);
  return r;
}

// A copy of fixture model folder `name` (config, tokenizer files, model.safetensors; no ONNX file) in a temp dir,
// and a fresh export cache ($ORTFORMERS_CACHE, inherited by the CLI processes) so the test exports for real.
struct CheckpointFolder {
  fs::path root, dir;
  explicit CheckpointFolder(const fs::path& fixtures, const std::string& name) {
    root = ortformers::testing::make_temp_dir("ckpt-only");
    dir = root / name;
    fs::copy(fixtures / "models" / name, dir, fs::copy_options::recursive);
    ::setenv("ORTFORMERS_CACHE", (root / "cache").c_str(), 1);
  }
  ~CheckpointFolder() {
    ::unsetenv("ORTFORMERS_CACHE");
    std::error_code ec;
    fs::remove_all(root, ec);
  }
};

const std::string kNote = "has a PyTorch checkpoint (model.safetensors) and no ONNX file: exporting it natively";

TEST(CliCheckpointFolder, RunExportsNativelySaysSoAndMatchesTransformers) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  CheckpointFolder ck(fixtures, "bert-tiny-seqcls");
  ASSERT_FALSE(fs::exists(ck.dir / "model.onnx"));
  const Json ref = read_json_file(fixtures / "reference" / "bert-tiny-seqcls.json");
  const Json& c = ref.at("pipelines").at("text-classification").at(0);
  ASSERT_TRUE(c.at("kwargs").at("top_k").is_null());
  const std::string args = "run text-classification --model " + q(ck.dir) + " --option top_k=null " +
                           "--option truncation=true --no-ort-cache " + q(c.at("input").get<std::string>());
  for (int pass = 0; pass < 2; ++pass) {  // the second run reuses the cached export
    const Result r = run_cli(args);
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.err.find(kNote), std::string::npos) << r.err;
    const Json out = Json::parse(r.out);
    const Json& want = c.at("output");
    ASSERT_EQ(out.size(), want.size()) << r.out;
    for (std::size_t i = 0; i < want.size(); ++i) {
      EXPECT_EQ(out[i].at("label"), want[i].at("label"));
      EXPECT_NEAR(out[i].at("score").get<double>(), want[i].at("score").get<double>(), 1e-4);
    }
  }
  EXPECT_FALSE(fs::exists(ck.dir / "model.onnx"));  // the user's folder is left as it was; the export is cached
  EXPECT_TRUE(fs::is_directory(ck.root / "cache"));
}

TEST(CliCheckpointFolder, InfoShowsTheExportForTheTaskTheConfigImplies) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  CheckpointFolder ck(fixtures, "bert-tiny-seqcls");
  const Result r = run_cli("info --model " + q(ck.dir));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find(kNote), std::string::npos) << r.err;
  const Json j = Json::parse(r.out);
  EXPECT_EQ(j.at("task"), "text-classification");
  EXPECT_EQ(j.at("model_type"), "bert");
  EXPECT_EQ(j.at("outputs").at(0).at("name"), "logits");
  EXPECT_EQ(fs::path(j.at("onnx_file").get<std::string>()).filename(), "model.onnx");
  EXPECT_EQ(fs::path(j.at("model_dir").get<std::string>()).string().rfind((ck.root / "cache").string(), 0), 0u)
      << j.at("model_dir");
}

TEST(CliCheckpointFolder, AFolderWithNeitherStillFailsNamingIt) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  CheckpointFolder ck(fixtures, "bert-tiny-seqcls");
  fs::remove(ck.dir / "model.safetensors");
  const Result r = run_cli("run text-classification --model " + q(ck.dir) + " 'Hello'");
  EXPECT_NE(r.status, 0);
  EXPECT_EQ(r.err.find(kNote), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("no ONNX model file"), std::string::npos) << r.err;
}

TEST(CliCheckpointFolder, TheLibraryKeepsOptimumsExplicitExport) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  CheckpointFolder ck(fixtures, "bert-tiny-seqcls");
  EXPECT_THROW(models::ORTModelForSequenceClassification::from_pretrained(ck.dir.string()), NotFoundError);
  models::ModelOptions o;
  o.export_model = true;
  auto m = models::ORTModelForSequenceClassification::from_pretrained(ck.dir.string(), o);
  EXPECT_EQ(m.config().model_type(), "bert");
}

TEST(CliCheckpointFolder, ServeExportsNativelyAndAnswers) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  CheckpointFolder ck(fixtures, "bert-tiny-seqcls");
  const fs::path log = ck.root / "serve.log";
  std::vector<std::string> argv_s = {ORTFORMERS_CLI_PATH, "serve",  "--model", ck.dir.string(), "--host",
                                     "127.0.0.1",         "--port", "0",       "--threads",     "1",
                                     "--no-ort-cache"};
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (std::freopen(log.c_str(), "w", stderr) == nullptr) ::_exit(126);
    if (std::freopen("/dev/null", "w", stdout) == nullptr) ::_exit(126);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  auto log_text = [&] {
    std::ifstream in(log);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  };
  int port = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  // "ready on http://127.0.0.1:PORT": the digits after the last ':' of that line.
  auto ready_port = [](const std::string& text) {
    const auto at = text.find("ready on http://");
    if (at == std::string::npos) return 0;
    const auto end = text.find_first_not_of("0123456789.:/abcdefghijklmnopqrstuvwxyz", at + 9);
    if (end == std::string::npos) return 0;  // the line is not complete yet
    const std::string url = text.substr(at + 9, end - at - 9);
    const auto colon = url.rfind(':');
    if (colon == std::string::npos || colon + 1 >= url.size()) return 0;
    const std::string digits = url.substr(colon + 1);
    if (digits.find_first_not_of("0123456789") != std::string::npos || digits.size() > 5) return 0;
    return std::stoi(digits);
  };
  while (std::chrono::steady_clock::now() < deadline && port == 0) {
    port = ready_port(log_text());
    if (::waitpid(pid, nullptr, WNOHANG) == pid) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::string answer;
  if (port != 0) {
    const std::string cmd =
        "curl -s -m 30 -H 'Content-Type: application/json' -d '{\"inputs\": \"Hello world!\"}' "
        "http://127.0.0.1:" +
        std::to_string(port) + "/predict";
    if (FILE* p = ::popen(cmd.c_str(), "r")) {
      char buf[4096];
      std::size_t n = 0;
      while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) answer.append(buf, n);
      ::pclose(p);
    }
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  const std::string text = log_text();
  ASSERT_NE(port, 0) << text;
  EXPECT_NE(text.find(kNote), std::string::npos) << text;
  EXPECT_NE(text.find("task text-classification"), std::string::npos) << text;
  // TEI's /predict answers [{"label", "score"}] sorted by score; the top one as transformers' pipeline.
  const Json ref = read_json_file(fixtures / "reference" / "bert-tiny-seqcls.json");
  const Json& want = ref.at("pipelines").at("text-classification").at(0).at("output");
  const Json got = Json::parse(answer, nullptr, false);
  ASSERT_TRUE(got.is_array() && !got.empty()) << answer;
  EXPECT_EQ(got[0].at("label"), want[0].at("label")) << answer;
  EXPECT_NEAR(got[0].at("score").get<double>(), want[0].at("score").get<double>(), 1e-4) << answer;
}

}  // namespace
