#pragma once
// transformers' ZeroShotClassificationPipeline (task "zero-shot-classification"), 4.31 semantics: every candidate
// label becomes the hypothesis hypothesis_template.format(label) paired with the sequence (truncation only_first),
// the NLI model's entailment logit is softmaxed across labels (or, with multi_label or a single label, entailment
// against contradiction per label). The entailment id is the first label2id entry whose name starts with
// "entail" (case-insensitive), as transformers finds it.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ortformers/config/pretrained_config.hpp"
#include "ortformers/models/sequence_classification.hpp"
#include "ortformers/pipelines/pipeline.hpp"

namespace ortformers::tokenizers {
class PreTrainedTokenizer;
}

namespace ortformers::pipelines {

struct ZeroShotClassificationOptions {
  std::vector<std::string> candidate_labels;
  std::string hypothesis_template = "This example is {}.";
  bool multi_label = false;
};

struct ZeroShotClassificationResult {
  std::string sequence;
  std::vector<std::string> labels;  // best first
  std::vector<double> scores;
};

// transformers' entailment_id: the label2id entry starting with "entail"; nullopt when none.
std::optional<std::int64_t> find_entailment_id(const config::PretrainedConfig& config);
// Python's str.format with one positional argument: every "{}" / "{0}" replaced, "{{" / "}}" unescaped.
// InvalidArgument (transformers' message) when the template has no placeholder.
std::string format_hypothesis(const std::string& hypothesis_template, const std::string& label);
// Scores per label from the NLI logits of each (sequence, hypothesis) pair ([labels][num_nli_labels]).
std::vector<double> zero_shot_scores(const std::vector<std::vector<float>>& logits, std::int64_t entailment_id,
                                     bool multi_label);
// Labels and scores sorted best first (transformers: reversed(argsort)).
ZeroShotClassificationResult rank_zero_shot(const std::string& sequence, const std::vector<std::string>& labels,
                                            const std::vector<double>& scores);
// "a, b,c" -> {"a", "b", "c"} (transformers splits a string of labels on commas).
std::vector<std::string> split_candidate_labels(const std::string& labels);

class ZeroShotClassificationPipeline : public Pipeline {
 public:
  explicit ZeroShotClassificationPipeline(const std::string& model_id_or_path, const PipelineOptions& options = {});
  ~ZeroShotClassificationPipeline() override;

  // InvalidArgument without candidate labels, with a template lacking "{}", or when config.json has no entailment
  // label (transformers only warns there and then reads the wrong column).
  ZeroShotClassificationResult operator()(const std::string& sequence,
                                          const ZeroShotClassificationOptions& options) const;
  // The NLI logits of every (sequence, hypothesis) pair.
  std::vector<std::vector<float>> pair_logits(const std::string& sequence,
                                              const ZeroShotClassificationOptions& options) const;

  std::string task() const override { return "zero-shot-classification"; }
  // input: a string (or a list, or {"sequences", "candidate_labels", ...}); kwargs: candidate_labels (list or
  // comma-separated string), hypothesis_template, multi_label. Output {"sequence", "labels", "scores"}.
  Json call(const Json& input, const Json& kwargs = Json::object()) override;
  const models::ORTModel& model() const override { return model_; }
  const tokenizers::PreTrainedTokenizer& tokenizer() const { return *tokenizer_; }

 private:
  models::ORTModelForSequenceClassification model_;
  std::unique_ptr<tokenizers::PreTrainedTokenizer> tokenizer_;
};

}  // namespace ortformers::pipelines
