#pragma once
// Model ids and the Hugging Face cache, resolved exactly as huggingface_hub does: an existing local folder is used
// as-is; otherwise the id is looked up in the cache shared with the Python libraries
// ($HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub; models--org--name/{refs,snapshots,blobs}) and
// what is missing is downloaded from $HF_ENDPOINT (default https://huggingface.co) with libcurl.
//
//   auto dir = ortformers::hub::resolve_model("sentence-transformers/all-MiniLM-L6-v2");
//   auto cfg = ortformers::hub::hf_hub_download("bert-base-uncased", "config.json", {.revision = "main"});
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "ortformers/core/error.hpp"

namespace ortformers::hub {

// Which model files resolve_model fetches besides config and tokenizer files.
enum class WeightsFormat {
  Auto,         // ONNX when the repo has it, else safetensors, else PyTorch (as optimum / transformers pick)
  Onnx,         // the ONNX file(s) and their external data
  Safetensors,  // model.safetensors or the index and its shards
  PyTorch,      // pytorch_model.bin or the index and its shards
  Checkpoint,   // the weights transformers would load: safetensors, else PyTorch (for exporting to ONNX)
  None,         // config, tokenizer and preprocessor files only
};

struct HubOptions {
  std::string revision = "main";       // branch, tag or 40-hex commit hash
  std::optional<std::string> token{};  // else $HF_TOKEN, else the token file ($HF_TOKEN_PATH or $HF_HOME/token)
  bool local_files_only = false;       // like HF_HUB_OFFLINE=1: never touch the network
  std::optional<std::filesystem::path> cache_dir{};  // else $HF_HUB_CACHE / $HF_HOME/hub / ~/.cache/huggingface/hub
  std::optional<std::string> endpoint{};             // else $HF_ENDPOINT, else https://huggingface.co
  bool progress = true;                              // progress bar on stderr when it is a terminal
  // resolve_model: when non-empty, download exactly the repo files matching these fnmatch patterns (like
  // snapshot_download(allow_patterns=...)) instead of "what the model needs".
  std::vector<std::string> allow_patterns{};
  std::vector<std::string> ignore_patterns{};  // files matching these are skipped (snapshot_download semantics)
  std::string repo_type = "model";             // "model", "dataset" or "space"
  std::optional<std::string> file_name{};      // resolve_model: the ONNX file to fetch (optimum's file_name)
  WeightsFormat weights = WeightsFormat::Auto;
  bool force_download = false;     // download again even when the file is cached
  bool check_for_updates = false;  // ask the server what a branch points to even when it is cached
  double timeout_s = 0;            // connect / stalled-transfer timeout; 0: $HF_HUB_DOWNLOAD_TIMEOUT, else 10 s
  int max_retries = 5;             // retries (with resume) after a dropped connection or a 5xx/429 answer
};

// Errors with the names huggingface_hub uses; all are NotFoundError (kind NotFound).
struct RepositoryNotFoundError : NotFoundError {
  using NotFoundError::NotFoundError;
};
struct GatedRepoError : RepositoryNotFoundError {
  using RepositoryNotFoundError::RepositoryNotFoundError;
};
struct RevisionNotFoundError : NotFoundError {
  using NotFoundError::NotFoundError;
};
struct EntryNotFoundError : NotFoundError {
  using NotFoundError::NotFoundError;
};
// Offline (HF_HUB_OFFLINE / local_files_only) and the file or snapshot is not in the cache.
struct LocalEntryNotFoundError : NotFoundError {
  using NotFoundError::NotFoundError;
};

// True when `id_or_path` names an existing directory (then it is used as-is, never looked up on the hub).
bool is_local_path(const std::string& id_or_path);

// An existing local folder is returned as-is; otherwise the id is resolved in the HF cache, downloading what is
// missing (config, tokenizer and preprocessor files, sentence-transformers modules, then the ONNX file(s) and
// their external data or the weights and their shards), and the snapshot folder is returned.
std::filesystem::path resolve_model(const std::string& id_or_path, const HubOptions& options = {});

// One file of a repo: its path inside the cache snapshot (a symlink to the blob), downloading it when needed.
std::filesystem::path hf_hub_download(const std::string& repo_id, const std::string& filename,
                                      const HubOptions& options = {});

// Every file of a repo (or those matching allow/ignore patterns) at options.revision; returns the snapshot folder.
std::filesystem::path snapshot_download(const std::string& repo_id, const HubOptions& options = {});

// The URL huggingface_hub would download: {endpoint}/{repo_id}/resolve/{revision}/{filename}.
std::string hf_hub_url(const std::string& repo_id, const std::string& filename, const HubOptions& options = {});

// What the cache knows about one file, without any network access.
struct CachedFile {
  enum class Status { NotCached, Cached, KnownMissing };  // KnownMissing: the hub said 404 (.no_exist marker)
  Status status = Status::NotCached;
  std::filesystem::path path;  // the snapshot path when Cached
};
CachedFile try_to_load_from_cache(const std::string& repo_id, const std::string& filename,
                                  const HubOptions& options = {});

// The repo's file list at a revision: GET {endpoint}/api/{type}s/{repo_id}/revision/{revision}.
struct RepoSibling {
  std::string rfilename;
  std::optional<std::uint64_t> size;
};
struct RepoInfo {
  std::string id;
  std::string sha;  // the commit the revision points to
  std::vector<RepoSibling> siblings;
};
RepoInfo repo_info(const std::string& repo_id, const HubOptions& options = {});

}  // namespace ortformers::hub

namespace ortformers::hub {
// For from_pretrained(dir_or_id) entry points: an existing file or folder is returned as-is; a string that is a valid
// repo id ("org/name") is resolved with resolve_model (fetching `weights` besides config/tokenizer/preprocessor
// files); anything else is a NotFoundError naming it.
std::filesystem::path resolve_path_or_id(const std::filesystem::path& path_or_id, WeightsFormat weights);
}  // namespace ortformers::hub
