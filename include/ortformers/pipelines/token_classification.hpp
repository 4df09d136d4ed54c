#pragma once
// transformers' TokenClassificationPipeline (task "token-classification", alias "ner"), 4.31 semantics with a fast
// tokenizer: aggregation_strategy none/simple/first/average/max, ignore_labels (default ["O"]), entity start/end as
// character (code point) offsets into the input, `stride` for inputs longer than the model (overlapping chunks whose
// entities are merged as transformers does).
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ortformers/config/pretrained_config.hpp"
#include "ortformers/models/token_classification.hpp"
#include "ortformers/pipelines/pipeline.hpp"

namespace ortformers::tokenizers {
class PreTrainedTokenizer;
}

namespace ortformers::pipelines {

enum class AggregationStrategy { None, Simple, First, Average, Max };
AggregationStrategy aggregation_strategy_from_string(const std::string& name);  // "none", "simple", ...
std::string to_string(AggregationStrategy strategy);

// One token before aggregation (transformers' "pre_entity").
struct PreEntity {
  std::string word;                  // the token string, or the input slice for unknown tokens
  std::vector<double> scores;        // softmax over labels
  std::optional<std::size_t> start;  // code points
  std::optional<std::size_t> end;
  std::int64_t index = 0;  // token index in the encoding
  bool is_subword = false;
};

// An entity: `entity` + `index` without aggregation; `entity_group` (entity holds it) with aggregation.
struct TokenEntity {
  std::string entity;  // label (none) or entity group (aggregated)
  double score = 0.0;
  std::optional<std::int64_t> index;  // set only for aggregation_strategy none
  std::string word;
  std::optional<std::size_t> start;
  std::optional<std::size_t> end;
  bool grouped = false;  // true: "entity_group" key
};

// Inputs of the pure post-processing for one chunk.
struct TokenClassificationChunk {
  std::vector<std::string> tokens;  // convert_ids_to_tokens
  std::vector<std::int64_t> input_ids;
  std::vector<std::int64_t> special_tokens_mask;
  std::optional<std::vector<std::pair<std::size_t, std::size_t>>> offsets;  // code points; nullopt = no offsets
  std::vector<float> logits;                                                // [tokens, num_labels] row-major
};

// convert_tokens_to_string of the tokenizer.
using TokensToString = std::function<std::string(const std::vector<std::string>& tokens)>;

// transformers' gather_pre_entities + aggregate + ignore_labels filter for one chunk. continuing_subword_prefix:
// the tokenizer model's prefix ("##" for WordPiece) or "" (then the space heuristic decides sub-words).
std::vector<TokenEntity> postprocess_token_classification(
    const std::string& sentence, const TokenClassificationChunk& chunk, const config::PretrainedConfig& config,
    AggregationStrategy strategy, const std::vector<std::string>& ignore_labels,
    const std::string& continuing_subword_prefix, std::optional<std::int64_t> unk_token_id,
    const TokensToString& tokens_to_string);
// Entities of overlapping chunks: sorted by start, overlapping ones resolved to the longest (then highest score).
std::vector<TokenEntity> aggregate_overlapping_entities(std::vector<TokenEntity> entities);
// BERT-style convert_tokens_to_string: " ".join(tokens).replace(" " + prefix, "").strip().
std::string join_wordpiece_tokens(const std::vector<std::string>& tokens, const std::string& prefix = "##");
Json to_json(const std::vector<TokenEntity>& entities);

struct TokenClassificationOptions {
  AggregationStrategy aggregation_strategy = AggregationStrategy::None;
  std::vector<std::string> ignore_labels{"O"};
  std::optional<std::size_t> stride;  // needs aggregation other than none, as transformers
};

class TokenClassificationPipeline : public Pipeline {
 public:
  explicit TokenClassificationPipeline(const std::string& model_id_or_path, const PipelineOptions& options = {});
  ~TokenClassificationPipeline() override;

  std::vector<TokenEntity> operator()(const std::string& text, const TokenClassificationOptions& options = {}) const;

  std::string task() const override { return "token-classification"; }
  // input: a string or a list of strings; kwargs: aggregation_strategy, ignore_labels, stride.
  Json call(const Json& input, const Json& kwargs = Json::object()) override;
  const models::ORTModel& model() const override { return model_; }
  const tokenizers::PreTrainedTokenizer& tokenizer() const { return *tokenizer_; }

 private:
  std::string tokens_to_string(const std::vector<std::string>& tokens) const;
  models::ORTModelForTokenClassification model_;
  std::unique_ptr<tokenizers::PreTrainedTokenizer> tokenizer_;
  std::string subword_prefix_;
};

}  // namespace ortformers::pipelines
