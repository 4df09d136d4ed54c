#pragma once
// transformers' TextGenerationPipeline (task "text-generation"), 4.31 semantics: the prompt is tokenized without
// special tokens (prefix + prompt), generated with every generate() kwarg (GenerationConfig::update), and returned as
// the full text (prompt_text + decode(all ids)[len(decode(prompt ids)):]), the new text only (return_full_text=False),
// or the token ids (return_tensors=True: generated_token_ids, the whole sequence). num_return_sequences gives several
// records per prompt; a list of prompts gives a list of lists; batch_size > 1 pads on the tokenizer's side (its pad
// token, else the generation config's pad_token_id). Chat input, as newer transformers pipelines: a list of
// {role, content} messages is rendered with the tokenizer's chat template (add_generation_prompt) and the answer
// comes back as the conversation with the assistant message appended (the new text alone with
// return_full_text=False).
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "ortformers/generation/generation_config.hpp"
#include "ortformers/generation/streamers.hpp"
#include "ortformers/models/causal_lm.hpp"
#include "ortformers/pipelines/pipeline.hpp"

namespace ortformers::tokenizers {
class PreTrainedTokenizer;
}

namespace ortformers::pipelines {

// transformers' ReturnType of the text-generation pipeline.
enum class ReturnType { Tensors, NewText, FullText };

struct TextGenerationOptions {
  ReturnType return_type = ReturnType::FullText;
  bool clean_up_tokenization_spaces = true;  // the pipeline's postprocess default (not the tokenizer's)
  std::optional<std::string> prefix;         // nullopt: config.json "prefix", when it has one
  std::string handle_long_generation;        // "" (None) or "hole": cut the prompt's start to fit model_max_length
  std::optional<std::string> stop_sequence;  // its first token becomes eos_token_id (4.31)
  Json generate_kwargs = Json::object();     // every generate() kwarg (max_new_tokens, num_beams, ...)
  std::size_t batch_size = 1;
  generation::BaseStreamer* streamer = nullptr;  // generate(streamer=...): greedy / sample, one prompt at a time
};

// One record of the pipeline's answer.
struct GeneratedOutput {
  std::optional<std::string> generated_text;                     // text prompts (full or new text), chat new text
  std::optional<Json> generated_messages;                        // chat input with return_full_text: the conversation
  std::optional<std::vector<std::int64_t>> generated_token_ids;  // return_tensors
  Json to_json() const;  // {"generated_text": ...} or {"generated_token_ids": [...]}
};

// The model inputs of one prompt, as preprocess() makes them.
struct TextGenerationInputs {
  std::vector<std::int64_t> input_ids;  // prefix + prompt (or the rendered chat), no special tokens added
  std::string prompt_text;              // the prompt as given (without the prefix)
  std::optional<Json> messages;         // chat input
};

class TextGenerationPipeline : public Pipeline {
 public:
  explicit TextGenerationPipeline(const std::string& model_id_or_path, const PipelineOptions& options = {});
  TextGenerationPipeline(models::ORTModelForCausalLM model, tokenizers::PreTrainedTokenizer tokenizer);
  ~TextGenerationPipeline() override;

  // One prompt: num_return_sequences records.
  std::vector<GeneratedOutput> operator()(const std::string& prompt, const TextGenerationOptions& options = {}) const;
  // Several prompts: one list of records per prompt (batched by options.batch_size).
  std::vector<std::vector<GeneratedOutput>> operator()(const std::vector<std::string>& prompts,
                                                       const TextGenerationOptions& options = {}) const;
  // A conversation: a JSON array of {"role", "content"} objects.
  std::vector<GeneratedOutput> chat(const Json& messages, const TextGenerationOptions& options = {}) const;
  // Any mix of inputs (strings and conversations): one list of records per input.
  std::vector<std::vector<GeneratedOutput>> run(const std::vector<Json>& inputs,
                                                const TextGenerationOptions& options = {}) const;

  // preprocess(): the tokens of one input (a string or a conversation).
  TextGenerationInputs preprocess(const Json& input, const TextGenerationOptions& options = {}) const;
  // The pipeline's keyword arguments (transformers' _sanitize_parameters): ValueError texts as InvalidArgument.
  TextGenerationOptions parse_kwargs(const Json& kwargs) const;

  std::string task() const override { return "text-generation"; }
  // input: a string, a conversation (list of {role, content}), a list of strings or of conversations (a list of
  // lists back), or {"text_inputs": ...}. kwargs: the pipeline's arguments and every generate() kwarg.
  Json call(const Json& input, const Json& kwargs = Json::object()) override;
  // Several inputs batched together (batch_size from kwargs): one result per input.
  std::vector<Json> call_batch(const std::vector<Json>& inputs, const Json& kwargs = Json::object()) override;
  const models::ORTModel& model() const override { return model_; }
  const models::ORTModelForCausalLM& causal_lm() const { return model_; }
  const tokenizers::PreTrainedTokenizer& tokenizer() const { return *tokenizer_; }
  const generation::GenerationConfig& generation_config() const { return generation_config_; }
  // generate()'s warnings of the last call (transformers' UserWarning / logger.warning texts).
  const std::vector<std::string>& warnings() const { return warnings_; }

 private:
  struct Prepared;
  std::vector<std::vector<GeneratedOutput>> run_prepared(const std::vector<TextGenerationInputs>& prepared,
                                                         const TextGenerationOptions& options) const;

  models::ORTModelForCausalLM model_;
  std::unique_ptr<tokenizers::PreTrainedTokenizer> tokenizer_;
  generation::GenerationConfig generation_config_;
  mutable std::vector<std::string> warnings_;
  std::set<std::string> printed_warnings_;  // call_batch prints each warning once
};

// True for a chat input: a JSON array whose first element is an object (a conversation).
bool is_conversation(const Json& input);

}  // namespace ortformers::pipelines
