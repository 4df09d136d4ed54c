#pragma once
// pipeline("feature-extraction"): transformers' FeatureExtractionPipeline. Output per input: [1][seq][hidden].
#include <optional>
#include <string>
#include <vector>

#include "ortformers/models/ort_model.hpp"
#include "ortformers/pipelines/pipeline.hpp"
#include "ortformers/tokenizers/pretrained_tokenizer.hpp"

namespace ortformers::pipelines {

struct FeatureExtractionOptions {
  std::optional<bool> truncation;         // transformers: truncation=... (overrides tokenize_kwargs["truncation"])
  tokenizers::TokenizeOptions tokenize;   // tokenize_kwargs (max_length, padding, add_special_tokens, ...)
};

// Parses transformers' tokenize_kwargs object ({"truncation": true, "max_length": 16, "padding": "max_length", ...}).
tokenizers::TokenizeOptions parse_tokenize_kwargs(const Json& kwargs, const std::string& task);

// The longest sequence the model's position embeddings allow (config max_position_embeddings, minus RoBERTa's
// padding offset), or -1 when the config does not say.
std::int64_t model_max_positions(const config::PretrainedConfig& config);
// InvalidArgument naming the length and the limit when an encoded sequence would overflow the position table.
void check_sequence_length(const tokenizers::BatchEncoding& encoding, const config::PretrainedConfig& config,
                           const std::string& task);

class FeatureExtractionPipeline : public Pipeline {
 public:
  FeatureExtractionPipeline(models::ORTModelForFeatureExtraction model, tokenizers::PreTrainedTokenizer tokenizer);
  static std::unique_ptr<FeatureExtractionPipeline> from_pretrained(const std::string& model_id_or_path,
                                                                    const PipelineOptions& options = {});

  // The model's first output for one text: a [1, seq, hidden] float32 tensor (Python: a nested list).
  Tensor operator()(const std::string& text, const FeatureExtractionOptions& options = {}) const;
  std::vector<Tensor> operator()(const std::vector<std::string>& texts, const FeatureExtractionOptions& options = {}) const;

  std::string task() const override { return "feature-extraction"; }
  Json call(const Json& input, const Json& kwargs = Json::object()) override;
  const models::ORTModel& model() const override { return model_; }
  const tokenizers::PreTrainedTokenizer& tokenizer() const { return tokenizer_; }
  // The tokenizer inputs for a text as this pipeline would feed them (for benchmarks: raw session vs pipeline).
  TensorMap encode(const std::string& text, const FeatureExtractionOptions& options = {}) const;

 private:
  models::ORTModelForFeatureExtraction model_;
  tokenizers::PreTrainedTokenizer tokenizer_;
};

// A [.., ..., n] float tensor as nested JSON lists (floats round-trip exact when dumped with format_float).
Json tensor_to_nested_json(const Tensor& t);

}  // namespace ortformers::pipelines
