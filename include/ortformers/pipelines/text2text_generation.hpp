#pragma once
// transformers 4.31's Text2TextGenerationPipeline ("text2text-generation") and its subclasses SummarizationPipeline
// ("summarization") and TranslationPipeline ("translation", "translation_XX_to_YY") over ORTModelForSeq2SeqLM.
//  - The model config's task_specific_params[task] apply at construction, as 4.31's Pipeline.__init__ does
//    (config.update and generation_config.update): T5's prefix ("summarize: ", "translate English to German: "),
//    max_length, min_length, num_beams, ...; "translation" alone picks the first translation_* entry (with 4.31's
//    warning).
//  - Each input is tokenized as tokenizer(prefix + text) (special tokens added; truncation only when asked), and
//    generated with every generate() kwarg; min_length / max_length default to the model config's (config.json,
//    PretrainedConfig defaults 0 / 20, after task_specific_params), as 4.31's _forward passes them.
//  - Records: {"<name>_text": decode(ids, skip_special_tokens=True, clean_up_tokenization_spaces=False by default)}
//    or, with return_tensors, {"<name>_token_ids": [...]} (the whole sequence, decoder start included); <name> is
//    generated / summary / translation. A list of inputs gives a list of lists, flattened when every input gave one
//    record (4.31's __call__).
//  - check_inputs warnings as 4.31's logger.warning texts (summarization: max_length vs input length; translation:
//    input length vs 0.9 * max_length), in warnings().
// Tokenizers with language codes (mBART, M2M100, NLLB: transformers' _build_translation_inputs with src_lang /
// tgt_lang) are not supported by the translation pipeline (UnsupportedError).
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "ortformers/generation/generation_config.hpp"
#include "ortformers/models/seq2seq_lm.hpp"
#include "ortformers/pipelines/pipeline.hpp"

namespace ortformers::tokenizers {
class PreTrainedTokenizer;
}

namespace ortformers::pipelines {

struct Text2TextGenerationOptions {
  bool return_tensors = false;                // ReturnType.TENSORS
  bool clean_up_tokenization_spaces = false;  // the pipeline's postprocess default
  bool truncation = false;                    // tokenizer(..., truncation=...): to the tokenizer's model_max_length
  std::optional<std::string> stop_sequence;   // its first token becomes eos_token_id
  Json generate_kwargs = Json::object();      // every generate() kwarg (max_new_tokens, num_beams, ...)
  std::size_t batch_size = 1;                 // inputs padded together (the tokenizer's pad token and side)
};

// One record: the text or the token ids.
struct Text2TextOutput {
  std::optional<std::string> text;
  std::optional<std::vector<std::int64_t>> token_ids;
  Json to_json(const std::string& return_name) const;  // {"<return_name>_text": ...} / {"<return_name>_token_ids"}
};

class Text2TextGenerationPipeline : public Pipeline {
 public:
  // options.task: the task asked for (pipeline() sets it); "" = this class's own task.
  explicit Text2TextGenerationPipeline(const std::string& model_id_or_path, const PipelineOptions& options = {});
  Text2TextGenerationPipeline(models::ORTModelForSeq2SeqLM model, tokenizers::PreTrainedTokenizer tokenizer,
                              const std::string& task = "text2text-generation");
  ~Text2TextGenerationPipeline() override;

  // One input: num_return_sequences records.
  std::vector<Text2TextOutput> operator()(const std::string& text,
                                          const Text2TextGenerationOptions& options = {}) const;
  // Several inputs: one list of records per input (batched by options.batch_size).
  std::vector<std::vector<Text2TextOutput>> operator()(const std::vector<std::string>& texts,
                                                       const Text2TextGenerationOptions& options = {}) const;
  // The pipeline's keyword arguments (4.31 _sanitize_parameters); the others are generate() kwargs.
  virtual Text2TextGenerationOptions parse_kwargs(const Json& kwargs) const;

  std::string task() const override { return task_; }
  // input: a string or a list of strings. kwargs: the pipeline's arguments and every generate() kwarg.
  Json call(const Json& input, const Json& kwargs = Json::object()) override;
  std::vector<Json> call_batch(const std::vector<Json>& inputs, const Json& kwargs = Json::object()) override;
  const models::ORTModel& model() const override { return model_; }
  const models::ORTModelForSeq2SeqLM& seq2seq_lm() const { return model_; }
  const tokenizers::PreTrainedTokenizer& tokenizer() const { return *tokenizer_; }
  const generation::GenerationConfig& generation_config() const { return generation_config_; }
  const std::string& prefix() const { return prefix_; }            // config prefix after task_specific_params
  const std::string& return_name() const { return return_name_; }  // generated / summary / translation
  // Warnings of the last call (4.31's logger.warning / UserWarning texts).
  const std::vector<std::string>& warnings() const { return warnings_; }

 protected:
  Text2TextGenerationPipeline(const std::string& model_id_or_path, const PipelineOptions& options,
                              const std::string& default_task, const std::string& return_name);
  // 4.31 check_inputs(input_length, min_length, max_length): warnings appended to warnings_.
  virtual void check_inputs(std::int64_t input_length, std::int64_t min_length, std::int64_t max_length) const;
  void apply_task(const std::string& task);  // task_specific_params, prefix, config min/max length

  models::ORTModelForSeq2SeqLM model_;
  std::unique_ptr<tokenizers::PreTrainedTokenizer> tokenizer_;
  generation::GenerationConfig generation_config_;
  std::string task_;
  std::string return_name_ = "generated";
  std::string prefix_;
  std::int64_t config_min_length_ = 0;   // model.config.min_length
  std::int64_t config_max_length_ = 20;  // model.config.max_length
  mutable std::vector<std::string> warnings_;
  std::set<std::string> printed_warnings_;
};

class SummarizationPipeline : public Text2TextGenerationPipeline {
 public:
  explicit SummarizationPipeline(const std::string& model_id_or_path, const PipelineOptions& options = {});

 protected:
  void check_inputs(std::int64_t input_length, std::int64_t min_length, std::int64_t max_length) const override;
};

class TranslationPipeline : public Text2TextGenerationPipeline {
 public:
  // options.task: "translation" or "translation_XX_to_YY" (4.31's KeyError text as InvalidArgument otherwise).
  explicit TranslationPipeline(const std::string& model_id_or_path, const PipelineOptions& options = {});
  // Also src_lang / tgt_lang (refused: no tokenizer here builds translation inputs).
  Text2TextGenerationOptions parse_kwargs(const Json& kwargs) const override;

 protected:
  void check_inputs(std::int64_t input_length, std::int64_t min_length, std::int64_t max_length) const override;
};

// 4.31's check_task for translation tasks: "translation" or "translation_XX_to_YY"; InvalidArgument ("Invalid
// translation task ..., use 'translation_XX_to_YY' format") otherwise.
void check_translation_task(const std::string& task);

}  // namespace ortformers::pipelines
