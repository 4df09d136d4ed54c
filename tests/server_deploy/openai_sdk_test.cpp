// A real client no one here wrote: the official OpenAI Node SDK (npm `openai`, pinned in
// tests/server_deploy/openai-client/package-lock.json, installed by scripts/setup.sh with `npm ci`) calls
// `ortformers serve`'s /v1/embeddings with encoding_format float, base64, and the SDK's default (base64 decoded by
// the SDK), and must get the sentence-transformers reference embeddings of the fixture (<= 1e-4).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "ortformers/core/json.hpp"
#include "ortformers/tokenizers/pretrained_tokenizer.hpp"
#include "server_deploy/harness.hpp"
#include "support/fixtures.hpp"

using namespace ortformers;
using namespace ortformers::testing;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

struct Captured {
  int status = -1;
  std::string out;
};

Captured capture(const std::string& cmd) {
  Captured c;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return c;
  char buf[8192];
  while (std::size_t n = std::fread(buf, 1, sizeof(buf), p)) c.out.append(buf, n);
  const int rc = ::pclose(p);
  c.status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  return c;
}

std::string quoted(const std::string& s) {
  std::string out = "'";
  for (char ch : s) out += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
  return out + "'";
}

TEST(OpenAiSdk, EmbeddingsFloatAndBase64MatchTheReference) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const fs::path client_dir = fs::path(ORTFORMERS_SOURCE_DIR) / "tests" / "server_deploy" / "openai-client";
  const std::string node = find_on_path("node");
  if (node.empty() || !fs::exists(client_dir / "node_modules" / "openai" / "package.json")) {
    const std::string why = node.empty() ? "node not found"
                                         : "the openai SDK is not installed (scripts/setup.sh runs `npm ci` in " +
                                               client_dir.string() + ")";
    if (running_in_ci()) FAIL() << why << " (CI=true)";
    GTEST_SKIP() << why;
  }
  const StReference ref = load_minilm_tiny_st_reference(fixtures);
  const fs::path dir = make_temp_dir("openai-sdk");
  const fs::path model = make_minilm_tiny_st_folder(fixtures, dir / "model");
  ServeReplica server = start_replica(model, dir / "serve.log", {"--served-model-name", "tiny-minilm", "--auto-truncate"});
  ASSERT_TRUE(wait_healthy(server.port, *server.process, 60s)) << server.process->log_text();

  std::ofstream(dir / "inputs.json") << Json(ref.inputs).dump();
  const Captured run = capture("timeout 120 " + quoted(node) + " " + quoted((client_dir / "embeddings.mjs").string()) +
                               " http://127.0.0.1:" + std::to_string(server.port) + "/v1 " +
                               quoted((dir / "inputs.json").string()) + " 2>" + quoted((dir / "node.err").string()));
  ASSERT_EQ(run.status, 0) << "node failed:\n"
                           << read_file_or_empty(dir / "node.err") << "\nserver log:\n"
                           << server.process->log_text();
  const Json out = Json::parse(run.out, nullptr, false);
  ASSERT_TRUE(out.is_object()) << run.out;

  for (const char* form : {"float", "base64", "default"}) {
    SCOPED_TRACE(form);
    const Json& rows = out.at(form);
    ASSERT_EQ(rows.size(), ref.inputs.size());
    double worst = 0;
    for (std::size_t i = 0; i < rows.size(); ++i) worst = std::max(worst, max_abs_diff_row(rows[i], ref.embeddings[i]));
    EXPECT_LE(worst, 1e-4) << "max |diff| vs the sentence-transformers reference";
  }
  EXPECT_EQ(out.at("model"), "tiny-minilm");

  // usage.prompt_tokens: every token the model saw, special tokens included (TEI counts the same way).
  auto tokenizer = tokenizers::AutoTokenizer::from_pretrained(model.string());
  std::size_t tokens = 0;
  tokenizers::TokenizeOptions truncate;  // --auto-truncate: at most the model's 256 tokens, as the reference
  truncate.truncation = true;
  truncate.max_length = 256;
  for (const auto& text : ref.inputs) tokens += tokenizer.encode(text, truncate).size();
  EXPECT_EQ(out.at("prompt_tokens").get<std::size_t>(), tokens);

  EXPECT_EQ(server.process->stop(10s), 0) << server.process->log_text();
  if (!HasFailure()) fs::remove_all(dir);
}

}  // namespace
