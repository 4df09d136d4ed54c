#include "ortformers/hub/constants.hpp"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "ortformers/core/error.hpp"
#include "ortformers/hub/validators.hpp"

namespace ortformers::hub {
namespace {

std::optional<std::string> env(const char* name) {
  const char* v = std::getenv(name);
  if (!v || !*v) return std::nullopt;
  return std::string(v);
}

// os.path.expanduser for "~" and "~/...".
std::filesystem::path expand_user(const std::string& p) {
  if (!p.empty() && p[0] == '~' && (p.size() == 1 || p[1] == '/')) {
    if (auto home = env("HOME")) return std::filesystem::path(*home + p.substr(1));
  }
  return std::filesystem::path(p);
}

bool is_true(const std::optional<std::string>& v) {
  if (!v) return false;
  std::string u = *v;
  std::transform(u.begin(), u.end(), u.begin(), [](unsigned char c) { return char(std::toupper(c)); });
  return u == "1" || u == "ON" || u == "YES" || u == "TRUE";
}

std::string trim(std::string s) {
  const char* ws = " \t\r\n";
  auto b = s.find_first_not_of(ws);
  if (b == std::string::npos) return {};
  auto e = s.find_last_not_of(ws);
  return s.substr(b, e - b + 1);
}

}  // namespace

std::filesystem::path hf_home() {
  if (auto v = env("HF_HOME")) return expand_user(*v);
  if (auto xdg = env("XDG_CACHE_HOME")) return expand_user(*xdg) / "huggingface";
  return expand_user("~/.cache") / "huggingface";
}

std::filesystem::path hf_hub_cache() {
  if (auto v = env("HF_HUB_CACHE")) return expand_user(*v);
  if (auto v = env("HUGGINGFACE_HUB_CACHE")) return expand_user(*v);
  return hf_home() / "hub";
}

std::string hf_endpoint() {
  std::string e = env("HF_ENDPOINT").value_or("https://huggingface.co");
  while (!e.empty() && e.back() == '/') e.pop_back();
  return e;
}

std::optional<std::string> get_token() {
  if (auto t = env("HF_TOKEN")) {
    auto s = trim(*t);
    if (!s.empty()) return s;
  }
  if (auto t = env("HUGGING_FACE_HUB_TOKEN")) {
    auto s = trim(*t);
    if (!s.empty()) return s;
  }
  std::filesystem::path token_path = env("HF_TOKEN_PATH") ? expand_user(*env("HF_TOKEN_PATH")) : hf_home() / "token";
  std::ifstream in(token_path);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  auto s = trim(ss.str());
  if (s.empty()) return std::nullopt;
  return s;
}

bool is_offline_mode() {
  return is_true(env("HF_HUB_OFFLINE")) || is_true(env("TRANSFORMERS_OFFLINE"));
}

std::string repo_folder_name(const std::string& repo_id, const std::string& repo_type) {
  validate_repo_type(repo_type);
  std::string out = repo_type + "s";
  std::size_t start = 0;
  while (true) {
    auto slash = repo_id.find('/', start);
    out += "--" + repo_id.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return out;
}

}  // namespace ortformers::hub
