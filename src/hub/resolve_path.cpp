#include "ortformers/hub/hub.hpp"
#include "ortformers/hub/validators.hpp"

namespace ortformers::hub {

std::filesystem::path resolve_path_or_id(const std::filesystem::path& path_or_id, WeightsFormat weights) {
  std::error_code ec;
  if (std::filesystem::exists(path_or_id, ec)) return path_or_id;
  const std::string s = path_or_id.string();
  bool valid_id = !s.empty() && !path_or_id.is_absolute() && !s.starts_with("./") && !s.starts_with("../");
  if (valid_id) {
    try {
      validate_repo_id(s);
    } catch (const Error&) {
      valid_id = false;
    }
  }
  if (!valid_id) throw NotFoundError("no such file or folder: " + s);
  HubOptions o;
  o.weights = weights;
  return resolve_model(s, o);
}

}  // namespace ortformers::hub
