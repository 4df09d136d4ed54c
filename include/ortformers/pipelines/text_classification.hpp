#pragma once
// transformers' TextClassificationPipeline (task "text-classification", alias "sentiment-analysis"), 4.31 semantics:
// top_k (1 by default; nullopt = every label, sorted), function_to_apply (sigmoid / softmax / none, default from
// config.json's problem_type and num_labels), text pairs, tokenizer kwargs truncation / max_length.
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "ortformers/config/pretrained_config.hpp"
#include "ortformers/models/sequence_classification.hpp"
#include "ortformers/pipelines/pipeline.hpp"

namespace ortformers::tokenizers {
class PreTrainedTokenizer;
}

namespace ortformers::pipelines {

enum class ClassificationFunction { Sigmoid, Softmax, None };
// "sigmoid" | "softmax" | "none" (case-insensitive); InvalidArgument otherwise.
ClassificationFunction classification_function_from_string(const std::string& name);
// transformers' default: sigmoid for multi_label_classification or a single label, softmax otherwise.
ClassificationFunction default_classification_function(const config::PretrainedConfig& config);

struct LabelScore {
  std::string label;
  double score = 0.0;
};

// Scores of every label in id order (function applied); FileFormatError when config.json lacks labels.
std::vector<LabelScore> classification_scores(std::span<const float> logits, const config::PretrainedConfig& config,
                                              ClassificationFunction function);
// Sorted by score (descending, stable) and cut to top_k (nullopt = all).
std::vector<LabelScore> top_labels(std::vector<LabelScore> scores, std::optional<std::size_t> top_k);

struct TextClassificationOptions {
  std::optional<std::size_t> top_k = 1;                     // nullopt = all labels
  std::optional<ClassificationFunction> function_to_apply;  // nullopt = default_classification_function
  bool truncation = false;                                  // tokenizer kwarg
  std::optional<std::size_t> max_length;                    // tokenizer kwarg
};

class TextClassificationPipeline : public Pipeline {
 public:
  explicit TextClassificationPipeline(const std::string& model_id_or_path, const PipelineOptions& options = {});
  ~TextClassificationPipeline() override;

  std::vector<LabelScore> operator()(const std::string& text, const TextClassificationOptions& options = {}) const;
  std::vector<LabelScore> operator()(const std::string& text, const std::string& text_pair,
                                     const TextClassificationOptions& options = {}) const;
  // The model's logits for one input (no function applied): [num_labels].
  std::vector<float> logits(const std::string& text, const std::optional<std::string>& text_pair,
                            const TextClassificationOptions& options = {}) const;

  std::string task() const override { return "text-classification"; }
  // input: a string, {"text", "text_pair"}, or a list of those. kwargs: top_k, function_to_apply, truncation,
  // max_length, return_all_scores (legacy). Output exactly as transformers 4.31 returns it (legacy shapes included).
  Json call(const Json& input, const Json& kwargs = Json::object()) override;
  const models::ORTModel& model() const override { return model_; }
  const models::ORTModelForSequenceClassification& classifier() const { return model_; }
  const tokenizers::PreTrainedTokenizer& tokenizer() const { return *tokenizer_; }

 private:
  models::ORTModelForSequenceClassification model_;
  std::unique_ptr<tokenizers::PreTrainedTokenizer> tokenizer_;
};

}  // namespace ortformers::pipelines
