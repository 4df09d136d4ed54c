#pragma once
// transformers' FillMaskPipeline (task "fill-mask"), 4.31 semantics: top_k (5), targets (restricts the vocabulary;
// a target missing from the vocabulary is replaced by its first sub-token, as transformers does), several mask
// tokens in one input (one list of predictions per mask, sequences then keep the special tokens).
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "ortformers/models/masked_lm.hpp"
#include "ortformers/pipelines/pipeline.hpp"

namespace ortformers::tokenizers {
class PreTrainedTokenizer;
}

namespace ortformers::pipelines {

struct FillMaskOptions {
  std::size_t top_k = 5;
  std::vector<std::string> targets;  // empty = the whole vocabulary
};

struct FillMaskPrediction {
  double score = 0.0;
  std::int64_t token = 0;
  std::string token_str;
  std::string sequence;
};

// Softmax over one mask position's logits, then the top_k (restricted to target_ids when not empty), best first:
// (token id, probability).
std::vector<std::pair<std::int64_t, double>> top_k_tokens(std::span<const float> logits, std::size_t top_k,
                                                          const std::vector<std::int64_t>& target_ids = {});

class FillMaskPipeline : public Pipeline {
 public:
  explicit FillMaskPipeline(const std::string& model_id_or_path, const PipelineOptions& options = {});
  ~FillMaskPipeline() override;

  // One list of predictions per mask token in the text. InvalidArgument when the text has no mask token.
  std::vector<std::vector<FillMaskPrediction>> operator()(const std::string& text,
                                                          const FillMaskOptions& options = {}) const;
  // transformers' get_target_ids (deduplicated).
  std::vector<std::int64_t> target_ids(const std::vector<std::string>& targets) const;

  std::string task() const override { return "fill-mask"; }
  // input: a string or a list of strings; kwargs: top_k, targets (string or list). Output as transformers: a list
  // of predictions for one mask, a list of lists for several.
  Json call(const Json& input, const Json& kwargs = Json::object()) override;
  const models::ORTModel& model() const override { return model_; }
  const tokenizers::PreTrainedTokenizer& tokenizer() const { return *tokenizer_; }

 private:
  models::ORTModelForMaskedLM model_;
  std::unique_ptr<tokenizers::PreTrainedTokenizer> tokenizer_;
};

}  // namespace ortformers::pipelines
