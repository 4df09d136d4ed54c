#include "ortformers/hub/validators.hpp"

#include <algorithm>
#include <string_view>

#include "ortformers/core/error.hpp"

namespace ortformers::hub {
namespace {

bool has_control_or_backslash(const std::string& s) {
  for (unsigned char c : s)
    if (c < 0x20 || c == 0x7f || c == '\\') return true;
  return false;
}

// Checks that every '/'-separated component is non-empty and neither "." nor "..".
bool has_bad_component(const std::string& s) {
  std::size_t start = 0;
  while (true) {
    std::size_t end = s.find('/', start);
    std::string part = s.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (part.empty() || part == "." || part == "..") return true;
    if (end == std::string::npos) return false;
    start = end + 1;
  }
}

bool is_word_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// One part of a repo id as huggingface_hub's REPO_ID_REGEX `^(\b[\w\-.]+\b/)?\b[\w\-.]{1,96}\b$` accepts it:
// word characters, '-' and '.', starting and ending with a word character, at most `max_len` long.
bool valid_repo_part(std::string_view s, std::size_t max_len) {
  if (s.empty() || s.size() > max_len) return false;
  for (char c : s)
    if (!is_word_char(c) && c != '-' && c != '.') return false;
  return is_word_char(s.front()) && is_word_char(s.back());
}

bool matches_repo_id(const std::string& id) {
  const auto slash = id.find('/');
  if (slash == std::string::npos) return valid_repo_part(id, 96);
  return valid_repo_part(std::string_view(id).substr(0, slash), std::string::npos) &&
         valid_repo_part(std::string_view(id).substr(slash + 1), 96);
}

}  // namespace

void validate_repo_id(const std::string& repo_id) {
  if (repo_id.empty()) throw InvalidArgument("repo id is empty: expected 'repo_name' or 'namespace/repo_name'");
  if (std::count(repo_id.begin(), repo_id.end(), '/') > 1)
    throw InvalidArgument("repo id must be in the form 'repo_name' or 'namespace/repo_name': '" + repo_id +
                          "' (a local folder of that name does not exist either)");
  if (!matches_repo_id(repo_id))
    throw InvalidArgument(
        "repo id must use alphanumeric chars, '-', '_' or '.'; the name cannot start or end with '-' or '.' and "
        "the maximum length is 96: '" +
        repo_id + "' (a local folder of that name does not exist either)");
  if (repo_id.find("--") != std::string::npos || repo_id.find("..") != std::string::npos)
    throw InvalidArgument("cannot have -- or .. in repo id: '" + repo_id + "'");
  if (repo_id.size() >= 4 && repo_id.compare(repo_id.size() - 4, 4, ".git") == 0)
    throw InvalidArgument("repo id cannot end by '.git': '" + repo_id + "'");
}

void validate_revision(const std::string& revision) {
  if (revision.empty()) throw InvalidArgument("revision is empty: expected a branch, tag or commit hash");
  if (revision.size() > 255) throw InvalidArgument("revision is longer than 255 characters: '" + revision + "'");
  if (has_control_or_backslash(revision) || revision.front() == '/' || has_bad_component(revision))
    throw InvalidArgument("invalid revision '" + revision +
                          "': a revision must not be absolute or contain empty, '.' or '..' path components, "
                          "backslashes or control characters");
}

void validate_filename(const std::string& filename) {
  if (filename.empty()) throw InvalidArgument("file name is empty");
  if (filename.size() > 4096) throw InvalidArgument("file name is longer than 4096 characters");
  if (has_control_or_backslash(filename) || filename.front() == '/' || has_bad_component(filename))
    throw InvalidArgument("invalid file name '" + filename +
                          "': a repo file must be a relative path without empty, '.' or '..' components, "
                          "backslashes or control characters");
}

void validate_repo_type(const std::string& repo_type) {
  if (repo_type != "model" && repo_type != "dataset" && repo_type != "space")
    throw InvalidArgument("invalid repo_type '" + repo_type + "': expected 'model', 'dataset' or 'space'");
}

bool is_commit_hash(const std::string& s) {
  if (s.size() != 40) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

}  // namespace ortformers::hub
