// Checksums and input validation: known SHA-256 / git blob vectors, repo ids, revisions and file names as
// huggingface_hub accepts or rejects them, and the environment-driven settings.
#include <gtest/gtest.h>

#include "hub/hashing.hpp"
#include "hub_test_util.hpp"
#include "ortformers/hub/constants.hpp"
#include "ortformers/hub/validators.hpp"

using namespace ortformers;
using namespace ortformers::hub;
using ortformers::hub::testing::EnvGuard;

TEST(HubHashing, Sha256KnownVectors) {
  EXPECT_EQ(detail::sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(detail::sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(detail::sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(detail::sha256_hex(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(HubHashing, StreamingEqualsOneShotAcrossBlockBoundaries) {
  std::string data = ortformers::hub::testing::random_bytes(10007, 3);
  for (std::size_t step : {1u, 7u, 63u, 64u, 65u, 1000u}) {
    detail::Sha256 h;
    for (std::size_t i = 0; i < data.size(); i += step) h.update(data.data() + i, std::min(step, data.size() - i));
    EXPECT_EQ(h.hexdigest(), detail::sha256_hex(data)) << step;
  }
}

TEST(HubHashing, GitBlobSha1) {
  // `printf 'hello\n' | git hash-object --stdin` and the empty blob.
  EXPECT_EQ(detail::git_blob_sha1_hex("hello\n"), "ce013625030ba8dba906f756967f9e9ca394464a");
  EXPECT_EQ(detail::git_blob_sha1_hex(""), "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391");
}

TEST(HubValidators, RepoIds) {
  for (const char* ok : {"foo", "foo/bar", "123", "Foo-BAR_foo.bar123", "sentence-transformers/all-MiniLM-L6-v2",
                         "bert-base-uncased", "o/n", "a.b-c/d_e"})
    EXPECT_NO_THROW(validate_repo_id(ok)) << ok;
  for (const char* bad :
       {"", "datasets/foo/bar", ".repo_id", "repo_id.", "-foo", "foo--bar", "foo..bar", "foo.git", "a/b/c", "../etc",
        "/abs", "foo bar", "café", "org/", "/name", "foo\\bar", "org-/name", "org/name_.", "-org/n"})
    EXPECT_THROW(validate_repo_id(bad), InvalidArgument) << bad;
  EXPECT_THROW(validate_repo_id(std::string(97, 'a')), InvalidArgument);
  EXPECT_NO_THROW(validate_repo_id(std::string(96, 'a')));
}

TEST(HubValidators, RevisionsAndFileNames) {
  for (const char* ok : {"main", "v1.0", "refs/pr/1", "0123456789abcdef0123456789abcdef01234567"})
    EXPECT_NO_THROW(validate_revision(ok)) << ok;
  for (const char* bad : {"", "..", "../main", "main/..", "/main", "a//b", "a\\b", "ma\nin", "./x"})
    EXPECT_THROW(validate_revision(bad), InvalidArgument) << bad;
  for (const char* ok : {"config.json", "1_Pooling/config.json", "onnx/model.onnx", "with space.txt"})
    EXPECT_NO_THROW(validate_filename(ok)) << ok;
  for (const char* bad :
       {"", "../config.json", "/etc/passwd", "a/../../b", "a/./b", "a//b", "a\\..\\b", "dir/", ".", "x\x01"})
    EXPECT_THROW(validate_filename(bad), InvalidArgument) << bad;
  EXPECT_TRUE(is_commit_hash("0123456789abcdef0123456789abcdef01234567"));
  EXPECT_FALSE(is_commit_hash("0123456789ABCDEF0123456789abcdef01234567"));
  EXPECT_FALSE(is_commit_hash("main"));
  EXPECT_THROW(validate_repo_type("models"), InvalidArgument);
}

TEST(HubConstants, FolderNamesAndEnvironment) {
  EXPECT_EQ(repo_folder_name("julien-c/EsperBERTo-small"), "models--julien-c--EsperBERTo-small");
  EXPECT_EQ(repo_folder_name("bert-base-uncased"), "models--bert-base-uncased");
  EXPECT_EQ(repo_folder_name("org/data", "dataset"), "datasets--org--data");

  EnvGuard env;
  auto tmp = ortformers::testing::make_temp_dir("hub-env");
  env.set("HF_HUB_CACHE", std::nullopt);
  env.set("HUGGINGFACE_HUB_CACHE", std::nullopt);
  env.set("HF_HOME", (tmp / "home").string());
  EXPECT_EQ(hf_hub_cache(), tmp / "home" / "hub");
  env.set("HF_HUB_CACHE", (tmp / "hubcache").string());
  EXPECT_EQ(hf_hub_cache(), tmp / "hubcache");
  env.set("HF_HOME", std::nullopt);
  env.set("XDG_CACHE_HOME", (tmp / "xdg").string());
  EXPECT_EQ(hf_home(), tmp / "xdg" / "huggingface");

  env.set("HF_ENDPOINT", "http://127.0.0.1:9/");
  EXPECT_EQ(hf_endpoint(), "http://127.0.0.1:9");
  env.set("HF_ENDPOINT", std::nullopt);
  EXPECT_EQ(hf_endpoint(), "https://huggingface.co");

  for (const char* on : {"1", "ON", "yes", "True"}) {
    env.set("HF_HUB_OFFLINE", on);
    EXPECT_TRUE(is_offline_mode()) << on;
  }
  env.set("HF_HUB_OFFLINE", "0");
  env.set("TRANSFORMERS_OFFLINE", std::nullopt);
  EXPECT_FALSE(is_offline_mode());

  env.set("HF_TOKEN", std::nullopt);
  env.set("HUGGING_FACE_HUB_TOKEN", std::nullopt);
  env.set("HF_TOKEN_PATH", (tmp / "token").string());
  EXPECT_FALSE(get_token().has_value());
  { std::ofstream(tmp / "token") << "hf_from_file\n"; }
  EXPECT_EQ(get_token(), "hf_from_file");
  env.set("HF_TOKEN", "hf_from_env");
  EXPECT_EQ(get_token(), "hf_from_env");
  std::filesystem::remove_all(tmp);
}

TEST(HubLocalPath, ExistingFolderIsReturnedAsIs) {
  auto tmp = ortformers::testing::make_temp_dir("hub-local");
  EXPECT_TRUE(is_local_path(tmp.string()));
  EXPECT_EQ(resolve_model(tmp.string()), tmp);
  EXPECT_FALSE(is_local_path((tmp / "nope").string()));
  EXPECT_THROW(resolve_model((tmp / "nope").string()), NotFoundError);
  EXPECT_THROW(resolve_model("./definitely/not/here"), NotFoundError);
  EXPECT_THROW(resolve_model("a/b/c", {.local_files_only = true}), InvalidArgument);
  std::filesystem::remove_all(tmp);
}
