#pragma once
// Checkpoints derived from a fixture model folder in a temp folder (config edits, tensors added / renamed / dropped),
// for the export tests of configurations no fixture has (tests/export_media). Header-only: it needs the export
// stage, which only the binaries that include it link.
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "ortformers/core/json.hpp"
#include "ortformers/core/tensor.hpp"
#include "ortformers/export/checkpoint.hpp"
#include "ortformers/export/safetensors_writer.hpp"
#include "support/fixtures.hpp"

namespace ortformers::testing {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

struct DerivedCheckpoint {
  std::filesystem::path dir;
  ~DerivedCheckpoint() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

// Writes config.json (edited) and model.safetensors (the tensors `edit` leaves) of a checkpoint derived from
// fixtures/models/<name>.
inline std::unique_ptr<DerivedCheckpoint> derive(const std::filesystem::path& fixtures, const std::string& name,
                                                 const std::function<void(Json&)>& edit_config,
                                                 const std::function<void(NamedTensors&)>& edit) {
  auto d = std::make_unique<DerivedCheckpoint>();
  d->dir = make_temp_dir("derived-" + name);
  Json cfg = read_json_file(fixtures / "models" / name / "config.json");
  edit_config(cfg);
  write_text_file(d->dir / "config.json", cfg.dump(2));
  const exporters::StateDict sd = exporters::load_checkpoint(fixtures / "models" / name);
  NamedTensors tensors;
  for (const auto& n : sd.names()) tensors.emplace_back(n, sd.at(n));
  edit(tensors);
  exporters::save_safetensors(d->dir / "model.safetensors", tensors, {{"format", "pt"}});
  return d;
}

inline void rename_prefix(NamedTensors& ts, const std::string& from, const std::string& to) {
  for (auto& [n, t] : ts)
    if (n.rfind(from, 0) == 0) n = to + n.substr(from.size());
}

inline void drop_if(NamedTensors& ts, const std::function<bool(const std::string&)>& pred) {
  std::erase_if(ts, [&](const auto& p) { return pred(p.first); });
}

}  // namespace ortformers::testing
