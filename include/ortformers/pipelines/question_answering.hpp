#pragma once
// transformers' QuestionAnsweringPipeline (task "question-answering"), 4.31 semantics as the reference stack runs it:
// the context is split into whitespace words (SquadExample), each word tokenized, and long contexts cut into windows
// of max_seq_len tokens starting every doc_stride context tokens (squad_convert_examples_to_features); spans are
// decoded per window with p_mask, softmax, decode_spans and max_answer_len; answers are whole words:
// start = first character of the first word, end = last character index mapped to the last word, text = the words
// joined by spaces (what transformers returns for these models). top_k, handle_impossible_answer (min_null_score).
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "ortformers/models/question_answering.hpp"
#include "ortformers/pipelines/pipeline.hpp"

namespace ortformers::tokenizers {
class PreTrainedTokenizer;
}

namespace ortformers::pipelines {

struct QuestionAnsweringOptions {
  std::size_t top_k = 1;
  std::optional<std::size_t> doc_stride;  // default min(max_seq_len / 2, 128)
  std::size_t max_answer_len = 15;
  std::optional<std::size_t> max_seq_len;  // default min(model_max_length, 384)
  std::size_t max_question_len = 64;
  bool handle_impossible_answer = false;
  bool align_to_words = true;  // answers are always whole words here (the reference's SquadExample path)
};

struct QuestionAnsweringAnswer {
  double score = 0.0;
  std::size_t start = 0;  // code points
  std::size_t end = 0;
  std::string answer;
};

// transformers' SquadExample: whitespace-separated words and, for every character, the index of its word
// (whitespace maps to the preceding word).
struct SquadExample {
  std::vector<std::string> doc_tokens;
  std::vector<std::int64_t> char_to_word_offset;
  static SquadExample from_context(const std::string& context);
};

// One model window.
struct QuestionAnsweringFeature {
  std::vector<std::int64_t> input_ids, token_type_ids, attention_mask;
  std::vector<std::int64_t> p_mask;             // 1 = cannot be part of an answer
  std::vector<std::int64_t> token_to_orig_map;  // token index -> word of the SquadExample, -1 outside the context
};

struct SpanScore {
  std::int64_t start = 0;
  std::int64_t end = 0;
  double score = 0.0;
};

// transformers' decode_spans on probabilities: the top_k (start <= end < start + max_answer_len) products, kept
// only when both ends are desired tokens.
std::vector<SpanScore> decode_spans(const std::vector<double>& start, const std::vector<double>& end, std::size_t top_k,
                                    std::size_t max_answer_len, const std::vector<bool>& desired);
// transformers' select_starts_ends: masks p_mask / padding, softmax, min_null_score update, decode_spans.
std::vector<SpanScore> select_starts_ends(std::span<const float> start, std::span<const float> end,
                                          const std::vector<std::int64_t>& p_mask,
                                          const std::vector<std::int64_t>& attention_mask, double& min_null_score,
                                          std::size_t top_k, bool handle_impossible_answer, std::size_t max_answer_len);

class QuestionAnsweringPipeline : public Pipeline {
 public:
  explicit QuestionAnsweringPipeline(const std::string& model_id_or_path, const PipelineOptions& options = {});
  ~QuestionAnsweringPipeline() override;

  // Answers sorted by score (at most top_k). InvalidArgument for an empty question/context or a question that
  // leaves no room for the context within max_seq_len.
  std::vector<QuestionAnsweringAnswer> operator()(const std::string& question, const std::string& context,
                                                  const QuestionAnsweringOptions& options = {}) const;
  // The windows the model sees (exposed for tests and benchmarks).
  std::vector<QuestionAnsweringFeature> features(const std::string& question, const SquadExample& example,
                                                 const QuestionAnsweringOptions& options) const;

  std::string task() const override { return "question-answering"; }
  // input: {"question", "context"} or a list of them; kwargs: top_k, doc_stride, max_answer_len, max_seq_len,
  // max_question_len, handle_impossible_answer, align_to_words (and question/context themselves).
  // Output: one answer object, or a list when more than one answer is returned (as transformers).
  Json call(const Json& input, const Json& kwargs = Json::object()) override;
  const models::ORTModel& model() const override { return model_; }
  const tokenizers::PreTrainedTokenizer& tokenizer() const { return *tokenizer_; }

 private:
  models::ORTModelForQuestionAnswering model_;
  std::unique_ptr<tokenizers::PreTrainedTokenizer> tokenizer_;
  bool byte_level_ = false;  // byte-level BPE: words are tokenized with a prefix space (RoBERTa family)
  // The pair template: special tokens before the question, between question and context, after the context.
  struct Template {
    std::vector<std::int64_t> prefix, middle, suffix;
    std::vector<std::int64_t> prefix_types, middle_types, suffix_types;
    std::int64_t first_type = 0, second_type = 1;
  } template_;
};

}  // namespace ortformers::pipelines
