// scan_cache_dir / delete_cached_revision / delete_cached_repo on caches made by downloads, and the
// `ortformers download` / `ortformers cache ls|rm` commands against the FakeHub.
#include <sys/wait.h>

#include <array>
#include <cstdio>

#include "hub_test_util.hpp"
#include "ortformers/core/json.hpp"
#include "ortformers/hub/cache.hpp"

namespace fs = std::filesystem;
using namespace ortformers;
using namespace ortformers::hub;
using namespace ortformers::hub::testing;

class HubCache : public HubTest {};

TEST_F(HubCache, ScanAndDeleteRevisions) {
  std::map<std::string, std::string> v1 = {{"config.json", "{\"v\": 1}"},
                                           {"model.safetensors", random_bytes(300000, 1)}};
  std::map<std::string, std::string> v2 = {{"config.json", "{\"v\": 2}"},
                                           {"model.safetensors", random_bytes(300000, 1)}};
  std::string c1 = hub_.add_commit("org/a", v1, {"main"});
  std::string c2 = hub_.add_commit("org/a", v2, {"v2"});
  hub_.add_commit("b", {{"config.json", "{}"}, {"pytorch_model.bin", random_bytes(1000, 2)}});
  resolve_model("org/a", opts_);
  HubOptions o = opts_;
  o.revision = "v2";
  resolve_model("org/a", o);
  resolve_model("b", opts_);
  fs::create_directories(cache_ / "not-a-repo");

  auto info = scan_cache_dir(cache_);
  ASSERT_EQ(info.repos.size(), 2u);
  EXPECT_EQ(info.repos[0].repo_id, "b");
  const auto& a = info.repos[1];
  EXPECT_EQ(a.repo_id, "org/a");
  EXPECT_EQ(a.repo_type, "model");
  EXPECT_EQ(a.nb_files, 3u);  // two configs + one shared weights blob
  EXPECT_EQ(a.size_on_disk, 300000u + v1["config.json"].size() + v2["config.json"].size());
  ASSERT_EQ(a.revisions.size(), 2u);
  for (const auto& rev : a.revisions) {
    EXPECT_EQ(rev.refs, std::vector<std::string>{rev.commit_hash == c1 ? "main" : "v2"});
    ASSERT_EQ(rev.files.size(), 2u);
    EXPECT_EQ(rev.files[1].file_name, "model.safetensors");
    EXPECT_EQ(rev.files[1].size_on_disk, 300000u);
  }
  EXPECT_EQ(info.warnings.size(), 1u);
  EXPECT_EQ(info.size_on_disk, a.size_on_disk + info.repos[0].size_on_disk);

  // Deleting v2 frees only its own config: the weights blob is still used by main.
  EXPECT_EQ(delete_cached_revision("org/a", "v2", "model", cache_), v2["config.json"].size());
  EXPECT_FALSE(fs::exists(storage("org/a") / "snapshots" / c2));
  EXPECT_FALSE(fs::exists(storage("org/a") / "refs" / "v2"));
  EXPECT_EQ(slurp(storage("org/a") / "snapshots" / c1 / "model.safetensors"), v1["model.safetensors"]);
  // Deleting the last revision removes the repo.
  EXPECT_EQ(delete_cached_revision("org/a", c1, "model", cache_), 300000u + v1["config.json"].size());
  EXPECT_FALSE(fs::exists(storage("org/a")));
  EXPECT_THROW(delete_cached_revision("org/a", "main", "model", cache_), NotFoundError);
  EXPECT_GT(delete_cached_repo("b", "model", cache_), 1000u);
  EXPECT_FALSE(fs::exists(storage("b")));
  EXPECT_THROW(delete_cached_repo("b", "model", cache_), NotFoundError);
  EXPECT_THROW(delete_cached_repo("../escape", "model", cache_), InvalidArgument);
  EXPECT_TRUE(scan_cache_dir(cache_ / "missing").repos.empty());

  EXPECT_EQ(format_size(5), "5.0");
  EXPECT_EQ(format_size(1234567), "1.2M");
}

namespace {

// Runs the CLI with extra environment, returns (exit code, stdout).
std::pair<int, std::string> run_cli(const std::string& args, const std::string& env) {
  std::string cmd = env + " '" + std::string(ORTFORMERS_CLI_PATH) + "' " + args + " 2>/dev/null";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return {-1, ""};
  std::string out;
  std::array<char, 4096> buf;
  std::size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  int status = ::pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

}  // namespace

TEST_F(HubCache, DownloadAndCacheCommands) {
  if (std::string(ORTFORMERS_CLI_PATH).empty() || !fs::exists(ORTFORMERS_CLI_PATH))
    GTEST_SKIP() << "ortformers CLI not built";
  std::string sha = hub_.add_commit("org/cli", {{"config.json", "{}"},
                                                {"tokenizer.json", "{}"},
                                                {"model.onnx", random_bytes(150000, 3)},
                                                {"notes.txt", "hello"}});
  std::string env = "HF_ENDPOINT='" + hub_.endpoint() + "' HF_HUB_CACHE='" + cache_.string() + "' HF_HOME='" +
                    (root_ / "hf_home").string() + "' HF_TOKEN_PATH='" + (root_ / "no_token").string() + "'";
  auto [rc, out] = run_cli("download org/cli --quiet", env);
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(out, (storage("org/cli") / "snapshots" / sha).string() + "\n");
  EXPECT_TRUE(fs::exists(storage("org/cli") / "snapshots" / sha / "model.onnx"));
  EXPECT_FALSE(fs::exists(storage("org/cli") / "snapshots" / sha / "notes.txt"));
  std::tie(rc, out) = run_cli("download org/cli --include '*.txt' --quiet", env);
  EXPECT_EQ(rc, 0);
  EXPECT_TRUE(fs::exists(storage("org/cli") / "snapshots" / sha / "notes.txt"));
  // --include takes one glob per flag: the following positional is a file name again.
  std::tie(rc, out) = run_cli("download org/cli --include '*.json' notes.txt --quiet", env);
  EXPECT_EQ(out, (storage("org/cli") / "snapshots" / sha / "notes.txt").string() + "\n");
  std::tie(rc, out) = run_cli("download org/cli notes.txt --quiet", env);
  EXPECT_EQ(out, (storage("org/cli") / "snapshots" / sha / "notes.txt").string() + "\n");

  std::tie(rc, out) = run_cli("cache ls --json", env);
  ASSERT_EQ(rc, 0);
  auto j = Json::parse(out);
  ASSERT_EQ(j["repos"].size(), 1u);
  EXPECT_EQ(j["repos"][0]["repo_id"], "org/cli");
  EXPECT_EQ(j["repos"][0]["revisions"][0]["refs"][0], "main");
  std::tie(rc, out) = run_cli("cache ls", env);
  EXPECT_NE(out.find("org/cli"), std::string::npos);
  std::tie(rc, out) = run_cli("cache rm org/cli", env);
  EXPECT_EQ(rc, 0);
  EXPECT_FALSE(fs::exists(storage("org/cli")));

  // Errors are reported with a non-zero exit code, nothing is written.
  std::tie(rc, out) = run_cli("download org/unknown --quiet", env);
  EXPECT_NE(rc, 0);
  std::tie(rc, out) = run_cli("download 'a/b/c' --quiet", env);
  EXPECT_NE(rc, 0);
  std::tie(rc, out) = run_cli("download org/cli --local-files-only --quiet", env);
  EXPECT_NE(rc, 0);
  std::tie(rc, out) = run_cli("cache rm org/cli", env);
  EXPECT_NE(rc, 0);
}
