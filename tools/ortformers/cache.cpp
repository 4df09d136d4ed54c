// ortformers cache ls [--json] / cache rm ID [--revision R]: inspect and clean the Hugging Face cache shared with
// the Python libraries (like `huggingface-cli scan-cache` / `delete-cache`).
#include <iomanip>
#include <iostream>
#include <memory>
#include <sstream>

#include "commands.hpp"
#include "ortformers/core/json.hpp"
#include "ortformers/hub/cache.hpp"

namespace {

using namespace ortformers;

struct CacheArgs {
  std::string cache_dir;
  bool json = false;
  std::string id, revision, repo_type = "model";
};

std::optional<std::filesystem::path> dir_of(const CacheArgs& a) {
  if (a.cache_dir.empty()) return std::nullopt;
  return std::filesystem::path(a.cache_dir);
}

int ls_command(const CacheArgs& a) {
  auto info = hub::scan_cache_dir(dir_of(a));
  if (a.json) {
    Json repos = Json::array();
    for (const auto& r : info.repos) {
      Json revs = Json::array();
      for (const auto& rev : r.revisions) {
        Json files = Json::array();
        for (const auto& f : rev.files) files.push_back({{"file_name", f.file_name}, {"size_on_disk", f.size_on_disk}});
        revs.push_back({{"commit_hash", rev.commit_hash},
                        {"refs", rev.refs},
                        {"snapshot_path", rev.snapshot_path.string()},
                        {"size_on_disk", rev.size_on_disk},
                        {"files", files}});
      }
      repos.push_back({{"repo_id", r.repo_id},
                       {"repo_type", r.repo_type},
                       {"repo_path", r.repo_path.string()},
                       {"size_on_disk", r.size_on_disk},
                       {"nb_files", r.nb_files},
                       {"revisions", revs}});
    }
    std::cout << Json{{"cache_dir", info.cache_dir.string()},
                      {"size_on_disk", info.size_on_disk},
                      {"repos", repos},
                      {"warnings", info.warnings}}
                     .dump(2)
              << "\n";
    return 0;
  }
  std::cout << std::left << std::setw(48) << "REPO ID"
            << " " << std::setw(9) << "REPO TYPE"
            << " " << std::setw(12) << "SIZE ON DISK"
            << " " << std::setw(8) << "NB FILES"
            << " " << std::setw(24) << "REFS"
            << " LOCAL PATH\n";
  for (const auto& r : info.repos) {
    std::string refs;
    for (const auto& rev : r.revisions)
      for (const auto& ref : rev.refs) refs += (refs.empty() ? "" : ", ") + ref;
    std::cout << std::left << std::setw(48) << r.repo_id << " " << std::setw(9) << r.repo_type << " " << std::right
              << std::setw(12) << hub::format_size(r.size_on_disk) << " " << std::setw(8) << r.nb_files << " "
              << std::left << std::setw(24) << refs << " " << r.repo_path.string() << "\n";
  }
  std::cout << "\nDone in the cache " << info.cache_dir.string() << ": " << info.repos.size() << " repo(s), "
            << hub::format_size(info.size_on_disk) << " on disk.\n";
  for (const auto& w : info.warnings) std::cerr << "warning: " << w << "\n";
  return 0;
}

int rm_command(const CacheArgs& a) {
  std::uint64_t freed = a.revision.empty() ? hub::delete_cached_repo(a.id, a.repo_type, dir_of(a))
                                           : hub::delete_cached_revision(a.id, a.revision, a.repo_type, dir_of(a));
  std::cout << "Deleted " << a.id << (a.revision.empty() ? "" : " @ " + a.revision) << ": freed "
            << hub::format_size(freed) << "\n";
  return 0;
}

void register_cache(CLI::App& app) {
  auto a = std::make_shared<CacheArgs>();
  auto* cmd = app.add_subcommand("cache", "List or delete models in the Hugging Face cache");
  cmd->require_subcommand(1);
  auto* ls = cmd->add_subcommand("ls", "List cached repos with their size, files and refs");
  ls->add_option("--cache-dir", a->cache_dir, "cache folder (default: $HF_HUB_CACHE or ~/.cache/huggingface/hub)");
  ls->add_flag("--json", a->json, "machine-readable output");
  auto* rm = cmd->add_subcommand("rm", "Delete a cached repo, or one of its revisions");
  rm->add_option("id", a->id, "repo id")->required();
  rm->add_option("--revision", a->revision, "only this revision (commit hash or ref name)");
  rm->add_option("--repo-type", a->repo_type, "model | dataset | space (default: model)");
  rm->add_option("--cache-dir", a->cache_dir, "cache folder (default: $HF_HUB_CACHE or ~/.cache/huggingface/hub)");
  ortformers::cli::command_actions()["cache"] = [a, ls, rm] {
    if (ls->parsed()) return ls_command(*a);
    if (rm->parsed()) return rm_command(*a);
    throw CLI::CallForHelp();
  };
}

}  // namespace

ORTFORMERS_REGISTER_COMMAND(register_cache);
