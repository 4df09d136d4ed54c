#include "ortformers/config/pretrained_config.hpp"

#include "ortformers/core/error.hpp"

namespace ortformers::config {

namespace fs = std::filesystem;

PretrainedConfig PretrainedConfig::from_pretrained(const fs::path& dir_or_file) {
  fs::path file = fs::is_directory(dir_or_file) ? dir_or_file / "config.json" : dir_or_file;
  if (!fs::exists(file)) throw NotFoundError("no config.json in " + dir_or_file.string());
  return from_json(read_json_file(file), file.string());
}

PretrainedConfig PretrainedConfig::from_json(Json json, std::string source) {
  PretrainedConfig c;
  c.source_ = std::move(source);
  if (!json.is_object()) throw FileFormatError(c.source_ + ": top level must be a JSON object");
  c.json_ = std::move(json);
  c.model_type_ = c.get<std::string>("model_type", "");
  c.architectures_ = c.get<std::vector<std::string>>("architectures", {});
  c.problem_type_ = c.get<std::string>("problem_type", "");
  if (c.has("id2label")) {
    const Json& m = c.json_.at("id2label");
    if (!m.is_object()) c.throw_bad_field("id2label");
    for (auto it = m.begin(); it != m.end(); ++it) {
      std::int64_t id = 0;
      try {
        std::size_t pos = 0;
        id = std::stoll(it.key(), &pos);
        if (pos != it.key().size()) throw std::invalid_argument("trailing");
      } catch (const std::exception&) {
        throw FileFormatError(c.source_ + ": field 'id2label' has a non-integer key '" + it.key() + "'");
      }
      if (!it.value().is_string()) c.throw_bad_field("id2label." + it.key());
      c.id2label_[id] = it.value().get<std::string>();
    }
  } else {
    // transformers: num_labels defaults to 2 and id2label to LABEL_0..LABEL_{n-1}
    const auto n = c.get<std::int64_t>("num_labels", 2);
    if (n < 0) c.throw_bad_field("num_labels");
    for (std::int64_t i = 0; i < n; ++i) c.id2label_[i] = "LABEL_" + std::to_string(i);
  }
  return c;
}

std::map<std::string, std::int64_t> PretrainedConfig::label2id() const {
  std::map<std::string, std::int64_t> out;
  if (has("label2id") && json_.at("label2id").is_object()) {
    for (auto it = json_.at("label2id").begin(); it != json_.at("label2id").end(); ++it) {
      if (it.value().is_number_integer()) out[it.key()] = it.value().get<std::int64_t>();
    }
    if (!out.empty()) return out;
  }
  for (const auto& [id, label] : id2label_) out[label] = id;
  return out;
}

void PretrainedConfig::save_pretrained(const fs::path& dir) const {
  fs::create_directories(dir);
  write_text_file(dir / "config.json", json_.dump(2) + "\n");
}

void PretrainedConfig::throw_bad_field(const std::string& key) const {
  std::string value = json_.contains(key) ? json_.at(key).dump() : "?";
  if (value.size() > 80) value = value.substr(0, 77) + "...";
  throw FileFormatError(source_ + ": field '" + key + "' has an unexpected type or value: " + value);
}

void PretrainedConfig::throw_missing_field(const std::string& key) const {
  throw FileFormatError(source_ + ": required field '" + key + "' is missing");
}

}  // namespace ortformers::config
