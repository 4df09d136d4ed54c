// hf_hub_download / resolve_model against a FakeHub on loopback: first download, cache hits without a request,
// revisions, CDN redirects, 404 / 401, cut connections and resume, corrupt partial files, concurrent processes,
// offline mode, a cache written in huggingface_hub's layout, and hostile servers.
#include <sys/wait.h>
#include <unistd.h>

#include "hub/cache_layout.hpp"
#include "hub_test_util.hpp"
#include "ortformers/hub/validators.hpp"

namespace fs = std::filesystem;
using namespace ortformers;
using namespace ortformers::hub;
using namespace ortformers::hub::testing;

namespace {

const std::string kRepo = "org/tiny";

std::map<std::string, std::string> tiny_files() {
  return {{"config.json", R"({"model_type": "bert", "hidden_size": 32})"},
          {"tokenizer.json", R"({"version": "1.0", "model": {"type": "WordPiece"}})"},
          {"tokenizer_config.json", R"({"do_lower_case": true})"},
          {"vocab.txt", "[PAD]\n[UNK]\n[CLS]\n[SEP]\nhello\n"},
          {"model.safetensors", random_bytes(3 << 20, 1)},
          {"pytorch_model.bin", random_bytes(1 << 20, 2)},
          {"README.md", "# tiny\n"}};
}

}  // namespace

class HubDownload : public HubTest {};

TEST_F(HubDownload, FirstDownloadWritesTheHubCacheLayout) {
  auto files = tiny_files();
  std::string sha = hub_.add_commit(kRepo, files);
  fs::path p = hf_hub_download(kRepo, "config.json", opts_);
  EXPECT_EQ(p, storage(kRepo) / "snapshots" / sha / "config.json");
  EXPECT_EQ(slurp(p), files["config.json"]);
  ASSERT_TRUE(fs::is_symlink(p));
  EXPECT_EQ(fs::read_symlink(p), fs::path("../../blobs") / FakeHub::git_sha1(files["config.json"]));
  EXPECT_EQ(slurp(storage(kRepo) / "refs" / "main"), sha);  // no trailing newline, like huggingface_hub

  // An LFS file: HEAD answered 302 to the CDN, blob named by its sha256, downloaded from the CDN path.
  fs::path w = hf_hub_download(kRepo, "model.safetensors", opts_);
  EXPECT_EQ(slurp(w), files["model.safetensors"]);
  EXPECT_EQ(fs::read_symlink(w), fs::path("../../blobs") / FakeHub::sha256(files["model.safetensors"]));
  EXPECT_EQ(hub_.count("HEAD", "/org/tiny/resolve/main/model.safetensors"), 1u);
  EXPECT_EQ(hub_.count("GET", "/cdn/" + FakeHub::sha256(files["model.safetensors"])), 1u);
  EXPECT_EQ(hub_.count("GET", "/org/tiny/resolve/main/model.safetensors"), 0u);
  for (const auto& r : hub_.requests()) {
    EXPECT_EQ(r.headers.count("authorization"), 0u);  // no token configured
    EXPECT_EQ(r.headers.at("accept-encoding"), "identity");
  }
  // Nothing but the final files: no .incomplete or temporary leftovers.
  for (const auto& f : tree(storage(kRepo) / "blobs")) EXPECT_EQ(f.find('.'), std::string::npos) << f;
}

TEST_F(HubDownload, CacheHitMakesNoRequest) {
  hub_.add_commit(kRepo, tiny_files());
  fs::path first = hf_hub_download(kRepo, "config.json", opts_);
  hub_.clear_requests();
  EXPECT_EQ(hf_hub_download(kRepo, "config.json", opts_), first);
  EXPECT_TRUE(hub_.requests().empty());

  fs::path snap = resolve_model(kRepo, opts_);
  hub_.clear_requests();
  EXPECT_EQ(resolve_model(kRepo, opts_), snap);
  EXPECT_TRUE(hub_.requests().empty());
  // check_for_updates asks the hub again (API + HEADs) but downloads nothing new.
  HubOptions o = opts_;
  o.check_for_updates = true;
  EXPECT_EQ(resolve_model(kRepo, o), snap);
  EXPECT_GT(hub_.count("", "/api/models/org/tiny/revision/main"), 0u);
  EXPECT_EQ(hub_.count("GET", "/cdn/"), 0u);
}

TEST_F(HubDownload, ResolveModelFetchesWhatTheModelNeeds) {
  auto files = tiny_files();
  std::string sha = hub_.add_commit(kRepo, files);
  fs::path snap = resolve_model(kRepo, opts_);
  EXPECT_EQ(snap, storage(kRepo) / "snapshots" / sha);
  EXPECT_EQ(tree(snap), (std::vector<std::string>{"config.json", "model.safetensors", "tokenizer.json",
                                                  "tokenizer_config.json", "vocab.txt"}));
  EXPECT_EQ(slurp(snap / "model.safetensors"), files["model.safetensors"]);
  // Known-absent files are recorded as huggingface_hub does, so an offline lookup can tell them apart.
  HubOptions off = opts_;
  off.local_files_only = true;
  EXPECT_EQ(try_to_load_from_cache(kRepo, "model.onnx", off).status, CachedFile::Status::KnownMissing);
  EXPECT_EQ(resolve_model(kRepo, off), snap);

  // Checkpoint weights for export: safetensors when present, else PyTorch.
  hub_.add_commit("org/ptonly", {{"config.json", "{}"}, {"pytorch_model.bin", files["pytorch_model.bin"]}});
  HubOptions ck = opts_;
  ck.weights = WeightsFormat::Checkpoint;
  EXPECT_EQ(tree(resolve_model("org/ptonly", ck)), (std::vector<std::string>{"config.json", "pytorch_model.bin"}));
  hub_.add_commit("org/onnxonly", {{"config.json", "{}"}, {"model.onnx", files["pytorch_model.bin"]}});
  EXPECT_THROW(resolve_model("org/onnxonly", ck), EntryNotFoundError);

  // Forcing the PyTorch weights fetches those instead.
  HubOptions pt = opts_;
  pt.weights = WeightsFormat::PyTorch;
  EXPECT_EQ(resolve_model(kRepo, pt), snap);
  EXPECT_EQ(slurp(snap / "pytorch_model.bin"), files["pytorch_model.bin"]);
}

TEST_F(HubDownload, ResolveModelPrefersOnnxAndItsExternalData) {
  std::map<std::string, std::string> files = {{"config.json", "{}"},
                                              {"tokenizer.json", "{}"},
                                              {"model.onnx", random_bytes(200000, 5)},
                                              {"model.onnx_data", random_bytes(300000, 6)},
                                              {"model_quantized.onnx", random_bytes(1000, 7)},
                                              {"model.safetensors", random_bytes(1000, 8)}};
  hub_.add_commit("org/onnx", files);
  fs::path snap = resolve_model("org/onnx", opts_);
  EXPECT_EQ(tree(snap), (std::vector<std::string>{"config.json", "model.onnx", "model.onnx_data", "tokenizer.json"}));
  EXPECT_EQ(slurp(snap / "model.onnx_data"), files["model.onnx_data"]);

  // transformers.js layout: ONNX files under onnx/, quantized variants skipped; file_name picks one explicitly.
  hub_.add_commit("org/js", {{"config.json", "{}"},
                             {"onnx/model.onnx", random_bytes(5000, 9)},
                             {"onnx/model_quantized.onnx", random_bytes(4000, 10)}});
  EXPECT_EQ(tree(resolve_model("org/js", opts_)), (std::vector<std::string>{"config.json", "onnx/model.onnx"}));
  HubOptions q = opts_;
  q.file_name = "model_quantized.onnx";
  EXPECT_EQ(tree(resolve_model("org/js", q)),
            (std::vector<std::string>{"config.json", "onnx/model.onnx", "onnx/model_quantized.onnx"}));
  q.file_name = "nope.onnx";
  EXPECT_THROW(resolve_model("org/js", q), EntryNotFoundError);
}

TEST_F(HubDownload, ShardedSafetensorsAndSentenceTransformersModules) {
  std::map<std::string, std::string> files = {
      {"config.json", "{}"},
      {"modules.json", R"([{"idx":0,"name":"0","path":"","type":"sentence_transformers.models.Transformer"},)"
                       R"({"idx":1,"name":"1","path":"1_Pooling","type":"sentence_transformers.models.Pooling"},)"
                       R"({"idx":2,"name":"2","path":"2_Dense/","type":"sentence_transformers.models.Dense"}])"},
      {"1_Pooling/config.json", R"({"pooling_mode_mean_tokens": true})"},
      {"2_Dense/config.json", R"({"in_features": 32})"},
      {"2_Dense/model.safetensors", random_bytes(2000, 11)},
      {"3_Unused/config.json", "{}"},
      {"model.safetensors.index.json",
       R"({"metadata":{},"weight_map":{"a":"model-00001-of-00002.safetensors","b":"model-00002-of-00002.safetensors","c":"model-00001-of-00002.safetensors"}})"},
      {"model-00001-of-00002.safetensors", random_bytes(150000, 12)},
      {"model-00002-of-00002.safetensors", random_bytes(150000, 13)},
      {"pytorch_model.bin", random_bytes(1000, 14)}};
  hub_.add_commit("org/st", files);
  fs::path snap = resolve_model("org/st", opts_);
  EXPECT_EQ(tree(snap), (std::vector<std::string>{
                            "1_Pooling/config.json", "2_Dense/config.json", "2_Dense/model.safetensors", "config.json",
                            "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors",
                            "model.safetensors.index.json", "modules.json"}));
  // Subfolder pointers link back to the blobs with the right depth.
  EXPECT_EQ(fs::read_symlink(snap / "1_Pooling/config.json").generic_string().rfind("../../../blobs/", 0), 0u);
  EXPECT_EQ(slurp(snap / "2_Dense/model.safetensors"), files["2_Dense/model.safetensors"]);
  hub_.clear_requests();
  EXPECT_EQ(resolve_model("org/st", opts_), snap);
  EXPECT_TRUE(hub_.requests().empty());
}

TEST_F(HubDownload, FolderCommitsServeOnlyRegularFilesInsideTheFolder) {
  const fs::path root = ortformers::testing::make_temp_dir("hub_folder_links");
  fs::create_directories(root / "repo" / "sub");
  std::ofstream(root / "repo" / "config.json") << "{}";
  std::ofstream(root / "repo" / "sub" / "a.txt") << "a";
  std::ofstream(root / "outside.txt") << "secret";
  fs::create_directories(root / "outside_dir");
  std::ofstream(root / "outside_dir" / "b.txt") << "b";
  fs::create_symlink("../outside.txt", root / "repo" / "link.txt");
  fs::create_directory_symlink("../outside_dir", root / "repo" / "linked_dir");
  hub_.add_commit_from_folder("org/links", root / "repo");
  opts_.allow_patterns = {"*"};
  const fs::path snap = snapshot_download("org/links", opts_);
  EXPECT_EQ(slurp(snap / "config.json"), "{}");
  EXPECT_EQ(slurp(snap / "sub" / "a.txt"), "a");
  EXPECT_FALSE(fs::exists(snap / "link.txt"));
  EXPECT_FALSE(fs::exists(snap / "linked_dir"));
}

TEST_F(HubDownload, FixtureFoldersServedInTheHubLayout) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  std::string sha =
      hub_.add_commit_from_folder("sentence-transformers/minilm-tiny-st", fixtures / "models/minilm-tiny-st");
  hub_.add_commit_from_folder("optimum/bert-tiny", fixtures / "onnx/bert-tiny");
  fs::path snap = resolve_model("sentence-transformers/minilm-tiny-st", opts_);
  EXPECT_EQ(snap.filename(), sha);
  for (const auto& f : {"config.json", "model.safetensors", "modules.json", "1_Pooling/config.json",
                        "sentence_bert_config.json", "tokenizer_config.json", "vocab.txt"})
    EXPECT_EQ(slurp(snap / f), slurp(fixtures / "models/minilm-tiny-st" / f)) << f;
  fs::path onnx = resolve_model("optimum/bert-tiny", opts_);
  EXPECT_EQ(slurp(onnx / "model.onnx"), slurp(fixtures / "onnx/bert-tiny/model.onnx"));
  EXPECT_EQ(slurp(onnx / "config.json"), slurp(fixtures / "onnx/bert-tiny/config.json"));
}

TEST_F(HubDownload, NewRevisionsAndCommitHashes) {
  auto files = tiny_files();
  std::string v1 = hub_.add_commit(kRepo, files);
  fs::path s1 = resolve_model(kRepo, opts_);
  auto files2 = files;
  files2["config.json"] = R"({"model_type": "bert", "hidden_size": 64})";
  std::string v2 = hub_.add_commit(kRepo, files2, {"main", "v2"});
  ASSERT_NE(v1, v2);

  // A new revision name downloads the new commit; unchanged files reuse the same blobs.
  HubOptions o = opts_;
  o.revision = "v2";
  fs::path s2 = resolve_model(kRepo, o);
  EXPECT_EQ(s2.filename(), v2);
  EXPECT_EQ(slurp(s2 / "config.json"), files2["config.json"]);
  EXPECT_EQ(slurp(storage(kRepo) / "refs" / "v2"), v2);
  EXPECT_EQ(fs::read_symlink(s2 / "model.safetensors"), fs::read_symlink(s1 / "model.safetensors"));
  EXPECT_EQ(hub_.count("GET", "/cdn/"), 1u);  // the 3 MB weights were fetched once for both commits

  // Offline-first: main is still the cached commit until updates are checked for.
  EXPECT_EQ(resolve_model(kRepo, opts_), s1);
  HubOptions upd = opts_;
  upd.check_for_updates = true;
  EXPECT_EQ(resolve_model(kRepo, upd), s2);
  EXPECT_EQ(slurp(storage(kRepo) / "refs" / "main"), v2);

  // A commit hash needs no ref; once cached it is served without a request.
  HubOptions c = opts_;
  c.revision = v1;
  hub_.clear_requests();
  EXPECT_EQ(hf_hub_download(kRepo, "config.json", c), s1 / "config.json");
  EXPECT_TRUE(hub_.requests().empty());
  EXPECT_FALSE(fs::exists(storage(kRepo) / "refs" / v1));

  // Unknown revision.
  o.revision = "does-not-exist";
  EXPECT_THROW(hf_hub_download(kRepo, "config.json", o), RevisionNotFoundError);
  // refs/pr/1 style revisions are URL-quoted and stored under refs/refs/pr/1 like huggingface_hub.
  hub_.add_commit(kRepo, files2, {"refs/pr/1"});
  o.revision = "refs/pr/1";
  hf_hub_download(kRepo, "config.json", o);
  EXPECT_EQ(hub_.count("HEAD", "/org/tiny/resolve/refs%2Fpr%2F1/config.json"), 1u);
  EXPECT_TRUE(fs::is_regular_file(storage(kRepo) / "refs" / "refs" / "pr" / "1"));
}

TEST_F(HubDownload, RelativeRedirectOfARenamedRepo) {
  hub_.add_commit("new-org/tiny", tiny_files());
  hub_.add_rename("old-org/tiny", "new-org/tiny");
  fs::path p = hf_hub_download("old-org/tiny", "vocab.txt", opts_);
  EXPECT_EQ(slurp(p), tiny_files()["vocab.txt"]);
  EXPECT_EQ(hub_.count("HEAD", "/new-org/tiny/resolve/main/vocab.txt"), 1u);
  // The file is cached under the id that was asked for, as huggingface_hub does.
  EXPECT_TRUE(fs::exists(storage("old-org/tiny") / "refs" / "main"));
}

TEST_F(HubDownload, MissingFilesAre404AndRemembered) {
  auto files = tiny_files();
  files.erase("tokenizer.json");
  std::string sha = hub_.add_commit(kRepo, files);
  EXPECT_THROW(hf_hub_download(kRepo, "tokenizer.json", opts_), EntryNotFoundError);
  EXPECT_TRUE(fs::exists(storage(kRepo) / ".no_exist" / sha / "tokenizer.json"));
  hub_.clear_requests();
  EXPECT_THROW(hf_hub_download(kRepo, "tokenizer.json", opts_), EntryNotFoundError);
  EXPECT_TRUE(hub_.requests().empty());
  EXPECT_EQ(try_to_load_from_cache(kRepo, "tokenizer.json", opts_).status, CachedFile::Status::KnownMissing);
  // An optional file missing does not stop resolve_model.
  fs::path snap = resolve_model(kRepo, opts_);
  EXPECT_FALSE(fs::exists(snap / "tokenizer.json"));
  EXPECT_TRUE(fs::exists(snap / "vocab.txt"));
  // Unknown repository.
  EXPECT_THROW(hf_hub_download("org/unknown", "config.json", opts_), RepositoryNotFoundError);
  EXPECT_THROW(resolve_model("org/unknown", opts_), RepositoryNotFoundError);
}

TEST_F(HubDownload, ProbesFileNamesWhenTheServerHasNoApi) {
  hub_.set_api_enabled(false);
  auto files = tiny_files();
  files.erase("tokenizer.json");
  std::string sha = hub_.add_commit(kRepo, files);
  fs::path snap = resolve_model(kRepo, opts_);
  EXPECT_EQ(snap.filename(), sha);
  EXPECT_EQ(tree(snap),
            (std::vector<std::string>{"config.json", "model.safetensors", "tokenizer_config.json", "vocab.txt"}));
  hub_.clear_requests();
  EXPECT_EQ(resolve_model(kRepo, opts_), snap);
  EXPECT_TRUE(hub_.requests().empty());
}

TEST_F(HubDownload, PrivateRepoNeedsAToken) {
  hub_.add_commit("org/private", tiny_files());
  hub_.set_private("org/private", "hf_secret");
  try {
    hf_hub_download("org/private", "config.json", opts_);
    FAIL() << "expected RepositoryNotFoundError";
  } catch (const RepositoryNotFoundError& e) {
    EXPECT_NE(std::string(e.what()).find("401"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("token"), std::string::npos) << e.what();
  }
  EXPECT_THROW(resolve_model("org/private", opts_), RepositoryNotFoundError);
  HubOptions bad = opts_;
  bad.token = "hf_wrong";
  EXPECT_THROW(hf_hub_download("org/private", "config.json", bad), RepositoryNotFoundError);
  EXPECT_FALSE(fs::exists(storage("org/private") / "snapshots"));

  HubOptions o = opts_;
  o.token = "hf_secret";
  EXPECT_EQ(slurp(hf_hub_download("org/private", "config.json", o)), tiny_files()["config.json"]);
  EXPECT_EQ(hub_.requests().back().headers.at("authorization"), "Bearer hf_secret");

  env_.set("HF_TOKEN", "hf_secret");
  EXPECT_NO_THROW(hf_hub_download("org/private", "vocab.txt", opts_));
  env_.set("HF_TOKEN", std::nullopt);
  { std::ofstream(root_ / "no_token_here") << "hf_secret\n"; }
  EXPECT_NO_THROW(resolve_model("org/private", opts_));
}

TEST_F(HubDownload, GatedRepoAndOtherRepoTypes) {
  hub_.add_commit("org/gated", tiny_files());
  hub_.set_gated("org/gated", "hf_granted");
  try {
    hf_hub_download("org/gated", "config.json", opts_);
    FAIL() << "expected GatedRepoError";
  } catch (const GatedRepoError& e) {
    EXPECT_NE(std::string(e.what()).find("gated"), std::string::npos) << e.what();
  }
  HubOptions o = opts_;
  o.token = "hf_granted";
  EXPECT_NO_THROW(hf_hub_download("org/gated", "config.json", o));

  HubOptions d = opts_;
  d.repo_type = "dataset";
  EXPECT_EQ(hf_hub_url("org/data", "train.csv", d), hub_.endpoint() + "/datasets/org/data/resolve/main/train.csv");
  d.repo_type = "spaces";
  EXPECT_THROW(hf_hub_url("org/data", "train.csv", d), InvalidArgument);
}

TEST_F(HubDownload, ConnectionCutMidFileIsResumedWithARangeRequest) {
  auto files = tiny_files();
  hub_.add_commit(kRepo, files);
  const std::size_t cut = 1000000;
  hub_.cut_downloads("model.safetensors", cut, 1);
  fs::path p = hf_hub_download(kRepo, "model.safetensors", opts_);
  EXPECT_EQ(slurp(p), files["model.safetensors"]);
  std::vector<std::string> ranges;
  for (const auto& r : hub_.requests())
    if (r.target.rfind("/cdn/", 0) == 0 && r.method == "GET")
      ranges.push_back(r.headers.count("range") ? r.headers.at("range") : "");
  EXPECT_EQ(ranges, (std::vector<std::string>{"", "bytes=" + std::to_string(cut) + "-"}));

  // The same for a regular (non-LFS) file served directly.
  hub_.cut_downloads("vocab.txt", 5, 1);
  EXPECT_EQ(slurp(hf_hub_download(kRepo, "vocab.txt", opts_)), files["vocab.txt"]);
}

TEST_F(HubDownload, InterruptedDownloadLeavesNoCompleteLookingFileAndResumesNextTime) {
  auto files = tiny_files();
  hub_.add_commit(kRepo, files);
  const std::string blob = FakeHub::sha256(files["model.safetensors"]);
  const std::size_t cut = 700000;
  hub_.cut_downloads("model.safetensors", cut, 1);
  HubOptions once = opts_;
  once.max_retries = 0;
  EXPECT_THROW(hf_hub_download(kRepo, "model.safetensors", once), RuntimeError);
  fs::path incomplete = storage(kRepo) / "blobs" / (blob + ".incomplete");
  ASSERT_TRUE(fs::exists(incomplete));
  EXPECT_EQ(fs::file_size(incomplete), cut);
  EXPECT_FALSE(fs::exists(storage(kRepo) / "blobs" / blob));
  EXPECT_EQ(try_to_load_from_cache(kRepo, "model.safetensors", opts_).status, CachedFile::Status::NotCached);

  hub_.clear_requests();
  fs::path p = hf_hub_download(kRepo, "model.safetensors", opts_);
  EXPECT_EQ(slurp(p), files["model.safetensors"]);
  EXPECT_FALSE(fs::exists(incomplete));
  EXPECT_EQ(hub_.count("GET", "/cdn/"), 1u);
  EXPECT_EQ(hub_.requests().back().headers.at("range"), "bytes=" + std::to_string(cut) + "-");
}

TEST_F(HubDownload, CorruptPartialFileIsDetectedAndDownloadedAgain) {
  auto files = tiny_files();
  hub_.add_commit(kRepo, files);
  const std::string blob = FakeHub::sha256(files["model.safetensors"]);
  fs::create_directories(storage(kRepo) / "blobs");
  { std::ofstream(storage(kRepo) / "blobs" / (blob + ".incomplete"), std::ios::binary) << random_bytes(5000, 99); }
  fs::path p = hf_hub_download(kRepo, "model.safetensors", opts_);
  EXPECT_EQ(slurp(p), files["model.safetensors"]);
  // First a resume from the corrupt prefix (sha256 mismatch), then a full download.
  auto reqs = hub_.requests();
  std::vector<std::string> ranges;
  for (const auto& r : reqs)
    if (r.target.rfind("/cdn/", 0) == 0) ranges.push_back(r.headers.count("range") ? r.headers.at("range") : "");
  EXPECT_EQ(ranges, (std::vector<std::string>{"bytes=5000-", ""}));

  // A partial file larger than the real one is discarded before any request for it.
  const std::string pt_blob = FakeHub::sha256(files["pytorch_model.bin"]);
  {
    std::ofstream(storage(kRepo) / "blobs" / (pt_blob + ".incomplete"), std::ios::binary) << random_bytes(2 << 20, 98);
  }
  EXPECT_EQ(slurp(hf_hub_download(kRepo, "pytorch_model.bin", opts_)), files["pytorch_model.bin"]);

  // A complete-sized but corrupt partial file of a regular file (git sha1 ETag) is also caught.
  const std::string vocab_blob = FakeHub::git_sha1(files["vocab.txt"]);
  {
    std::ofstream(storage(kRepo) / "blobs" / (vocab_blob + ".incomplete"))
        << std::string(files["vocab.txt"].size(), 'x');
  }
  EXPECT_EQ(slurp(hf_hub_download(kRepo, "vocab.txt", opts_)), files["vocab.txt"]);
}

TEST_F(HubDownload, TwoProcessesDownloadingTheSameModelAtOnce) {
  auto files = tiny_files();
  hub_.add_commit(kRepo, files);
  hub_.throttle_downloads("model.safetensors", 256 * 1024, 40);  // ~0.5 s for the 3 MB file
  std::vector<pid_t> children;
  for (int i = 0; i < 2; ++i) {
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      int rc = 0;
      try {
        fs::path snap = resolve_model(kRepo, opts_);
        if (slurp(snap / "model.safetensors") != files["model.safetensors"]) rc = 3;
      } catch (const std::exception& e) {
        std::fprintf(stderr, "child: %s\n", e.what());
        rc = 2;
      }
      ::_exit(rc);
    }
    children.push_back(pid);
  }
  for (pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
  }
  // The lock made the second process wait and reuse the blob: the weights were transferred exactly once.
  EXPECT_EQ(hub_.count("GET", "/cdn/" + FakeHub::sha256(files["model.safetensors"])), 1u);
  EXPECT_EQ(hub_.count("GET", "/api/models/org/tiny/revision/main"), 2u);
  fs::path snap = resolve_model(kRepo, opts_);
  EXPECT_EQ(slurp(snap / "model.safetensors"), files["model.safetensors"]);
  for (const auto& f : tree(storage(kRepo))) EXPECT_EQ(f.find(".incomplete"), std::string::npos) << f;
  for (const auto& f : tree(storage(kRepo))) EXPECT_EQ(f.find(".tmp."), std::string::npos) << f;
}

TEST_F(HubDownload, OfflineModeNeverTouchesTheNetwork) {
  hub_.add_commit(kRepo, tiny_files());
  HubOptions off = opts_;
  off.local_files_only = true;
  try {
    hf_hub_download(kRepo, "config.json", off);
    FAIL() << "expected LocalEntryNotFoundError";
  } catch (const LocalEntryNotFoundError& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("config.json"), std::string::npos) << m;
    EXPECT_NE(m.find("local_files_only"), std::string::npos) << m;
    EXPECT_NE(m.find("refs/main"), std::string::npos) << m;
  }
  env_.set("HF_HUB_OFFLINE", "1");
  try {
    resolve_model(kRepo, opts_);
    FAIL() << "expected LocalEntryNotFoundError";
  } catch (const LocalEntryNotFoundError& e) {
    EXPECT_NE(std::string(e.what()).find("HF_HUB_OFFLINE"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(hub_.requests().empty());
  env_.set("HF_HUB_OFFLINE", std::nullopt);

  // Only the config is cached: resolve_model offline names the missing weights.
  hf_hub_download(kRepo, "config.json", opts_);
  hub_.clear_requests();
  try {
    resolve_model(kRepo, off);
    FAIL() << "expected LocalEntryNotFoundError";
  } catch (const LocalEntryNotFoundError& e) {
    EXPECT_NE(std::string(e.what()).find("model weights"), std::string::npos) << e.what();
  }
  fs::path snap = resolve_model(kRepo, opts_);
  hub_.clear_requests();
  env_.set("HF_HUB_OFFLINE", "1");
  EXPECT_EQ(resolve_model(kRepo, opts_), snap);
  EXPECT_EQ(hf_hub_download(kRepo, "vocab.txt", opts_), snap / "vocab.txt");
  HubOptions force = opts_;
  force.check_for_updates = true;
  EXPECT_EQ(resolve_model(kRepo, force), snap);
  EXPECT_TRUE(hub_.requests().empty());
}

TEST_F(HubDownload, ReadsACacheWrittenByPythonHuggingfaceHub) {
  // The layout huggingface_hub writes: refs/main, snapshots/<commit>/ relative symlinks into blobs/<etag>.
  const std::string commit = "0123456789abcdef0123456789abcdef01234567";
  fs::path st = storage("sentence-transformers/all-MiniLM-L6-v2");
  std::map<std::string, std::string> files = {{"config.json", R"({"model_type":"bert"})"},
                                              {"tokenizer.json", "{}"},
                                              {"model.safetensors", random_bytes(4096, 21)},
                                              {"1_Pooling/config.json", "{}"}};
  fs::create_directories(st / "refs");
  { std::ofstream(st / "refs" / "main") << commit; }
  for (const auto& [name, content] : files) {
    std::string etag = name == "model.safetensors" ? FakeHub::sha256(content) : FakeHub::git_sha1(content);
    fs::create_directories(st / "blobs");
    { std::ofstream(st / "blobs" / etag, std::ios::binary) << content; }
    fs::path ptr = st / "snapshots" / commit / name;
    fs::create_directories(ptr.parent_path());
    std::string up = name.find('/') != std::string::npos ? "../../../blobs/" : "../../blobs/";
    fs::create_symlink(up + etag, ptr);
  }
  hub_.clear_requests();
  fs::path snap = resolve_model("sentence-transformers/all-MiniLM-L6-v2", opts_);
  EXPECT_EQ(snap, st / "snapshots" / commit);
  EXPECT_EQ(slurp(snap / "model.safetensors"), files["model.safetensors"]);
  EXPECT_EQ(slurp(hf_hub_download("sentence-transformers/all-MiniLM-L6-v2", "1_Pooling/config.json", opts_)), "{}");
  HubOptions c = opts_;
  c.revision = commit;
  EXPECT_EQ(resolve_model("sentence-transformers/all-MiniLM-L6-v2", c), snap);
  EXPECT_TRUE(hub_.requests().empty());
  // Through HF_HUB_CACHE rather than an explicit cache_dir.
  env_.set("HF_HUB_CACHE", cache_.string());
  HubOptions envopts;
  envopts.endpoint = hub_.endpoint();
  envopts.progress = false;
  EXPECT_EQ(resolve_model("sentence-transformers/all-MiniLM-L6-v2", envopts), snap);
  EXPECT_TRUE(hub_.requests().empty());
}

TEST_F(HubDownload, BadInputIsRejectedBeforeAnyRequest) {
  hub_.add_commit(kRepo, tiny_files());
  EXPECT_THROW(hf_hub_download(kRepo, "../../etc/passwd", opts_), InvalidArgument);
  EXPECT_THROW(hf_hub_download(kRepo, "/etc/passwd", opts_), InvalidArgument);
  EXPECT_THROW(hf_hub_download(kRepo, "a/../../b", opts_), InvalidArgument);
  HubOptions o = opts_;
  o.revision = "../../../escape";
  EXPECT_THROW(hf_hub_download(kRepo, "config.json", o), InvalidArgument);
  EXPECT_THROW(resolve_model(kRepo, o), InvalidArgument);
  for (const char* id : {"a/b/c", "foo--bar", ".hidden", "repo.git", "org/na me", "org/../x"})
    EXPECT_THROW(resolve_model(id, opts_), Error) << id;
  EXPECT_THROW(hf_hub_download("foo--bar", "config.json", opts_), InvalidArgument);
  HubOptions e = opts_;
  e.endpoint = "file:///etc";
  EXPECT_THROW(hf_hub_download(kRepo, "config.json", e), InvalidArgument);
  HubOptions t = opts_;
  t.token = "hf_bad\r\nX-Injected: 1";
  EXPECT_THROW(hf_hub_download(kRepo, "config.json", t), InvalidArgument);
  EXPECT_TRUE(hub_.requests().empty());
  EXPECT_FALSE(fs::exists(cache_));
}

TEST_F(HubDownload, HostileServerHeadersGiveClearErrorsAndWriteNothingOutside) {
  hub_.add_commit(kRepo, tiny_files());
  struct Case {
    Garbage g;
    std::string file;
    std::string needle;
  };
  for (const auto& c : std::vector<Case>{{Garbage::NoCommit, "config.json", "X-Repo-Commit"},
                                         {Garbage::BadCommit, "config.json", "X-Repo-Commit"},
                                         {Garbage::BinaryHeader, "config.json", "\\x01"},
                                         {Garbage::TraversalEtag, "config.json", "ETag"},
                                         {Garbage::TraversalEtag, "model.safetensors", "ETag"},
                                         {Garbage::NoEtag, "vocab.txt", "ETag"},
                                         {Garbage::BadSize, "model.safetensors", "size"}}) {
    hub_.set_garbage(c.g);
    try {
      hf_hub_download(kRepo, c.file, opts_);
      ADD_FAILURE() << "no error for garbage mode " << int(c.g);
    } catch (const FileFormatError& e) {
      EXPECT_NE(std::string(e.what()).find(c.needle), std::string::npos) << e.what();
    }
  }
  hub_.set_garbage(Garbage::TraversalListing);
  EXPECT_THROW(resolve_model(kRepo, opts_), FileFormatError);
  hub_.set_garbage(Garbage::None);
  // Nothing was written outside the cache, and no blob exists for any garbage answer.
  std::vector<std::string> outside = tree(root_);
  for (const auto& f : outside) EXPECT_EQ(f.rfind("cache/", 0), 0u) << f;
  EXPECT_TRUE(tree(storage(kRepo) / "blobs").empty());
  EXPECT_TRUE(tree(storage(kRepo) / "snapshots").empty());

  // A server that does not speak HTTP at all.
  GarbageServer junk("\x16\x03\x01 this is not HTTP at all \r\n\r\n");
  HubOptions j = opts_;
  j.endpoint = junk.endpoint();
  j.max_retries = 1;
  EXPECT_THROW(hf_hub_download(kRepo, "config.json", j), RuntimeError);
  GarbageServer bad_status("HTTP/1.1 999999999999 ???\r\nX-Repo-Commit: ;;;\r\n\r\n");
  j.endpoint = bad_status.endpoint();
  EXPECT_THROW(hf_hub_download(kRepo, "config.json", j), Error);
  // Nobody listening.
  HubOptions closed = opts_;
  closed.endpoint = "http://127.0.0.1:1";
  closed.max_retries = 0;
  try {
    hf_hub_download(kRepo, "config.json", closed);
    FAIL();
  } catch (const RuntimeError& e) {
    EXPECT_NE(std::string(e.what()).find("HF_HUB_OFFLINE"), std::string::npos) << e.what();
  }
}

TEST_F(HubDownload, WrongContentRangeAndServerErrorsAreRetried) {
  auto files = tiny_files();
  hub_.add_commit(kRepo, files);
  hub_.fail_requests("config.json", 500, 2);
  EXPECT_EQ(slurp(hf_hub_download(kRepo, "config.json", opts_)), files["config.json"]);
  EXPECT_EQ(hub_.count("HEAD", "/resolve/main/config.json"), 3u);

  // A resumed download whose Content-Range does not start where we asked: restarted from zero.
  hub_.cut_downloads("model.safetensors", 100000, 1);
  hub_.set_garbage(Garbage::BadContentRange);
  EXPECT_EQ(slurp(hf_hub_download(kRepo, "model.safetensors", opts_)), files["model.safetensors"]);
  hub_.set_garbage(Garbage::None);
}

TEST_F(HubDownload, SlowResponsesTimeOutOrSucceed) {
  auto files = tiny_files();
  hub_.add_commit(kRepo, files);
  hub_.delay_requests("config.json", 300, 1);
  EXPECT_EQ(slurp(hf_hub_download(kRepo, "config.json", opts_)), files["config.json"]);

  HubOptions quick = opts_;
  quick.timeout_s = 1;
  quick.max_retries = 0;
  hub_.delay_requests("vocab.txt", 3500, 1);
  auto t0 = std::chrono::steady_clock::now();
  try {
    hf_hub_download(kRepo, "vocab.txt", quick);
    FAIL() << "expected a timeout";
  } catch (const RuntimeError& e) {
    EXPECT_NE(std::string(e.what()).find("timed out"), std::string::npos) << e.what();
  }
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(3));
  EXPECT_EQ(try_to_load_from_cache(kRepo, "vocab.txt", opts_).status, CachedFile::Status::NotCached);
  // A stalled body: the first GET of the weights stops sending, the retry resumes.
  hub_.delay_requests("model.safetensors", 0, 0);
  hub_.throttle_downloads("model.safetensors", 1 << 20, 2000);
  HubOptions retry = opts_;
  retry.timeout_s = 1;
  EXPECT_EQ(slurp(hf_hub_download(kRepo, "model.safetensors", retry)), files["model.safetensors"]);
  std::size_t ranged = 0;
  for (const auto& r : hub_.requests())
    if (r.target.rfind("/cdn/", 0) == 0 && r.headers.count("range")) ++ranged;
  EXPECT_GE(ranged, 1u);
}

TEST_F(HubDownload, SnapshotDownloadWithPatterns) {
  auto files = tiny_files();
  std::string sha = hub_.add_commit(kRepo, files);
  HubOptions o = opts_;
  o.allow_patterns = {"*.json", "*.txt"};
  o.ignore_patterns = {"tokenizer_config.json"};
  fs::path snap = snapshot_download(kRepo, o);
  EXPECT_EQ(snap.filename(), sha);
  EXPECT_EQ(tree(snap), (std::vector<std::string>{"config.json", "tokenizer.json", "vocab.txt"}));
  // resolve_model with allow_patterns behaves like snapshot_download.
  o.allow_patterns = {"README.md"};
  o.ignore_patterns.clear();
  EXPECT_EQ(resolve_model(kRepo, o), snap);
  EXPECT_TRUE(fs::exists(snap / "README.md"));
  o.allow_patterns = {"*.nothing"};
  EXPECT_THROW(snapshot_download(kRepo, o), EntryNotFoundError);
  auto info = repo_info(kRepo, opts_);
  EXPECT_EQ(info.sha, sha);
  EXPECT_EQ(info.siblings.size(), files.size());
  EXPECT_EQ(hf_hub_url(kRepo, "sub dir/a+b.json", opts_),
            hub_.endpoint() + "/org/tiny/resolve/main/sub%20dir/a%2Bb.json");
}
