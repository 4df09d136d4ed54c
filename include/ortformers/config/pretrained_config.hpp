#pragma once
// PretrainedConfig: config.json of a Hugging Face model, with the fields the library needs typed and the rest
// available as JSON (like transformers.PretrainedConfig, which keeps unknown keys as attributes).
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ortformers/core/json.hpp"

namespace ortformers::config {

class PretrainedConfig {
 public:
  PretrainedConfig() = default;
  // Reads <dir>/config.json (or the file itself when a file path is given).
  static PretrainedConfig from_pretrained(const std::filesystem::path& dir_or_file);
  static PretrainedConfig from_json(Json json, std::string source = "config.json");

  const std::string& model_type() const noexcept { return model_type_; }
  const std::vector<std::string>& architectures() const noexcept { return architectures_; }
  // id2label as transformers builds it: from config.json, or LABEL_i for num_labels when absent.
  const std::map<std::int64_t, std::string>& id2label() const noexcept { return id2label_; }
  std::map<std::string, std::int64_t> label2id() const;
  std::int64_t num_labels() const noexcept { return static_cast<std::int64_t>(id2label_.size()); }
  // "regression" | "single_label_classification" | "multi_label_classification" | "" when not set.
  const std::string& problem_type() const noexcept { return problem_type_; }

  bool has(const std::string& key) const { return json_.contains(key) && !json_.at(key).is_null(); }
  // Typed field; FileFormatError naming the file and field when present with the wrong type.
  template <class T>
  T get(const std::string& key, T fallback) const {
    if (!has(key)) return fallback;
    try {
      return json_.at(key).get<T>();
    } catch (const Json::exception&) {
      throw_bad_field(key);
    }
  }
  template <class T>
  T require(const std::string& key) const {
    if (!has(key)) throw_missing_field(key);
    try {
      return json_.at(key).get<T>();
    } catch (const Json::exception&) {
      throw_bad_field(key);
    }
  }
  const Json& json() const noexcept { return json_; }
  Json& json() noexcept { return json_; }
  const std::string& source() const noexcept { return source_; }

  void save_pretrained(const std::filesystem::path& dir) const;  // writes <dir>/config.json

 private:
  [[noreturn]] void throw_bad_field(const std::string& key) const;
  [[noreturn]] void throw_missing_field(const std::string& key) const;

  Json json_ = Json::object();
  std::string source_;
  std::string model_type_;
  std::vector<std::string> architectures_;
  std::map<std::int64_t, std::string> id2label_;
  std::string problem_type_;
};

}  // namespace ortformers::config
