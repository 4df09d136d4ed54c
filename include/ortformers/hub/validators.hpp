#pragma once
// Input checks mirroring huggingface_hub/utils/_validators.py, plus path-safety checks for file names and
// revisions so that nothing is ever written outside the cache. All throw InvalidArgument naming the value.
#include <string>

namespace ortformers::hub {

// "name" or "namespace/name": 1-96 chars of [A-Za-z0-9._-] per part, no leading/trailing '-' or '.',
// no "--" or "..", not ending in ".git".
void validate_repo_id(const std::string& repo_id);
// A branch, tag, "refs/pr/N" or commit hash: non-empty, no "." / ".." components, no leading '/', no
// backslash or control characters.
void validate_revision(const std::string& revision);
// A file path inside a repo: relative, '/'-separated, no "." / ".." / empty components, no backslash or
// control characters.
void validate_filename(const std::string& filename);
// "model", "dataset" or "space".
void validate_repo_type(const std::string& repo_type);
// True for a full 40-hex commit hash (REGEX_COMMIT_HASH).
bool is_commit_hash(const std::string& s);

}  // namespace ortformers::hub
