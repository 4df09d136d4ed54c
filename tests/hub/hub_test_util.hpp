#pragma once
// Shared set-up for the hub tests: a FakeHub on loopback, a fresh HF cache per test, and an environment with no
// token, no offline flag and no user cache leaking in.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>

#include "fake_hub.hpp"
#include "ortformers/hub/hub.hpp"
#include "support/fixtures.hpp"

namespace ortformers::hub::testing {

// Deterministic pseudo-random bytes.
inline std::string random_bytes(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = char(rng() & 0xff);
  return s;
}

inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Sets or unsets environment variables for the lifetime of the object, restoring them afterwards.
class EnvGuard {
 public:
  void set(const std::string& name, const std::optional<std::string>& value) {
    if (!saved_.count(name)) {
      const char* old = std::getenv(name.c_str());
      saved_[name] = old ? std::optional<std::string>(old) : std::nullopt;
    }
    if (value)
      ::setenv(name.c_str(), value->c_str(), 1);
    else
      ::unsetenv(name.c_str());
  }
  ~EnvGuard() {
    for (const auto& [k, v] : saved_) {
      if (v)
        ::setenv(k.c_str(), v->c_str(), 1);
      else
        ::unsetenv(k.c_str());
    }
  }

 private:
  std::map<std::string, std::optional<std::string>> saved_;
};

class HubTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = ortformers::testing::make_temp_dir("hub");
    cache_ = root_ / "cache";
    for (const char* v : {"HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_ENDPOINT",
                          "HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_HUB_DOWNLOAD_TIMEOUT"})
      env_.set(v, std::nullopt);
    env_.set("HF_HOME", (root_ / "hf_home").string());
    env_.set("HF_TOKEN_PATH", (root_ / "no_token_here").string());
    opts_.cache_dir = cache_;
    opts_.endpoint = hub_.endpoint();
    opts_.progress = std::getenv("ORTFORMERS_TEST_PROGRESS") != nullptr;  // bars only on a terminal anyway
    opts_.timeout_s = 5;
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(root_, ec);
  }
  std::filesystem::path storage(const std::string& repo) const {
    std::string name = "models";
    std::size_t start = 0;
    while (true) {
      auto s = repo.find('/', start);
      name += "--" + repo.substr(start, s == std::string::npos ? std::string::npos : s - start);
      if (s == std::string::npos) break;
      start = s + 1;
    }
    return cache_ / name;
  }
  // Every regular file or symlink below `dir`, relative.
  static std::vector<std::string> tree(const std::filesystem::path& dir) {
    std::vector<std::string> out;
    std::error_code ec;
    if (!std::filesystem::exists(dir, ec)) return out;
    for (auto it = std::filesystem::recursive_directory_iterator(dir, ec); it != decltype(it)(); ++it)
      if (!it->is_directory(ec) || it->is_symlink(ec))
        out.push_back(it->path().lexically_relative(dir).generic_string());
    std::sort(out.begin(), out.end());
    return out;
  }

  EnvGuard env_;
  FakeHub hub_;
  std::filesystem::path root_, cache_;
  HubOptions opts_;
};

}  // namespace ortformers::hub::testing
