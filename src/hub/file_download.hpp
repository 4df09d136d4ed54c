#pragma once
// Internals shared by hf_hub_download, snapshot_download and resolve_model.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "hub/http.hpp"
#include "ortformers/hub/hub.hpp"

namespace ortformers::hub::detail {

// Options resolved against the environment, for one repo.
struct Context {
  std::string repo_id;
  std::string repo_type;
  std::string endpoint;
  std::filesystem::path cache_dir;
  std::filesystem::path storage;  // cache_dir / models--org--name
  std::optional<std::string> token;
  bool offline = false;
  bool progress = false;
  double timeout_s = 10.0;
  const HubOptions* options = nullptr;
};
Context make_context(const std::string& repo_id, const HubOptions& options);

struct Downloaded {
  std::filesystem::path path;  // snapshot entry
  std::string commit;
};

// hf_hub_download at an explicit revision; the commit the file was found at is returned too.
Downloaded download_file(const Context& ctx, const std::string& filename, const std::string& revision);

// "Authorization: Bearer ..." when a token is known.
std::vector<std::string> auth_headers(const Context& ctx);
// Raises the hub error that matches a >= 400 answer (X-Error-Code, status); `what` names the request.
[[noreturn]] void raise_for_status(const Context& ctx, const HttpResult& r, const std::string& what,
                                   const std::string& url);
// Transport failure message with the endpoint and a hint about HF_HUB_OFFLINE.
[[noreturn]] void raise_transport(const Context& ctx, const HttpResult& r, const std::string& what,
                                  const std::string& url);
std::string repo_url_prefix(const Context& ctx);  // {endpoint}/ or {endpoint}/datasets/ ...
std::string offline_reason(const Context& ctx);
// Sleeps before retry number `attempt` (0-based): 0.2 s doubling, at most 3 s.
void backoff_sleep(int attempt);

}  // namespace ortformers::hub::detail
