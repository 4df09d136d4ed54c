#pragma once
// GenerationConfig: the generate() settings of transformers 4.31 (generation/configuration_utils.py) that apply to
// decoder-only and encoder-decoder models, read from generation_config.json (else derived from config.json as
// GenerationConfig.from_model_config does), overridden per call with update(kwargs), checked by validate().
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ortformers/core/json.hpp"

namespace ortformers::generation {

// early_stopping: True, False or "never" (BeamHypotheses.is_done).
enum class EarlyStopping { False, True, Never };

struct GenerationConfig {
  // Length
  std::int64_t max_length = 20;
  std::optional<std::int64_t> max_new_tokens;
  std::int64_t min_length = 0;
  std::optional<std::int64_t> min_new_tokens;
  EarlyStopping early_stopping = EarlyStopping::False;
  std::optional<double> max_time;
  // Strategy
  bool do_sample = false;
  std::int64_t num_beams = 1;
  std::int64_t num_beam_groups = 1;
  std::optional<double> penalty_alpha;  // contrastive search: refused by generate() (needs hidden states)
  bool use_cache = true;
  // Logits manipulation
  double temperature = 1.0;
  std::optional<std::int64_t> top_k = 50;
  double top_p = 1.0;
  double typical_p = 1.0;
  double epsilon_cutoff = 0.0;
  double eta_cutoff = 0.0;
  double diversity_penalty = 0.0;
  double repetition_penalty = 1.0;
  double encoder_repetition_penalty = 1.0;
  double length_penalty = 1.0;
  std::int64_t no_repeat_ngram_size = 0;
  std::optional<std::vector<std::vector<std::int64_t>>> bad_words_ids;
  std::optional<Json> force_words_ids;  // constrained beam search: refused by generate()
  bool renormalize_logits = false;
  std::optional<std::int64_t> forced_bos_token_id;
  std::vector<std::int64_t> forced_eos_token_id;  // empty = None; an int or a list
  bool remove_invalid_values = false;
  std::optional<std::pair<std::int64_t, double>> exponential_decay_length_penalty;  // (start_index, decay_factor)
  std::optional<std::vector<std::int64_t>> suppress_tokens;
  std::optional<std::vector<std::int64_t>> begin_suppress_tokens;
  // [generation index, token] pairs; a null token (Whisper's language slot) is kept as nullopt and not forced.
  std::optional<std::vector<std::pair<std::int64_t, std::optional<std::int64_t>>>> forced_decoder_ids;
  std::optional<std::vector<std::pair<std::vector<std::int64_t>, double>>> sequence_bias;
  std::optional<double> guidance_scale;  // classifier-free guidance: refused by generate()
  std::int64_t encoder_no_repeat_ngram_size = 0;
  // Whisper (WhisperForConditionalGeneration's generation_config.json; unset = absent, as hasattr() in transformers)
  std::optional<std::vector<std::pair<std::string, std::int64_t>>> lang_to_id;  // "<|en|>" -> id (sorted by key)
  std::optional<std::vector<std::pair<std::string, std::int64_t>>> task_to_id;  // "transcribe" -> id
  std::optional<std::int64_t> no_timestamps_token_id;
  std::optional<std::int64_t> max_initial_timestamp_index;
  std::optional<bool> is_multilingual;
  bool return_timestamps = false;
  std::optional<std::string> language;  // set by Whisper's generate(language=...)
  std::optional<std::string> task;      // set by Whisper's generate(task=...)
  // Outputs
  std::int64_t num_return_sequences = 1;
  bool output_scores = false;
  bool return_dict_in_generate = false;
  // Special tokens
  std::optional<std::int64_t> pad_token_id;
  std::optional<std::int64_t> bos_token_id;
  std::vector<std::int64_t> eos_token_id;  // empty = None; an int or a list
  std::optional<std::int64_t> decoder_start_token_id;
  // Ours: the sampling generator's seed (std::mt19937_64); unset = a fresh std::random_device seed per call.
  std::optional<std::uint64_t> seed;
  // Set by update() when the call's kwargs hold max_length (4.31's has_default_max_length is its negation): then a
  // max_new_tokens of the same call wins with a warning.
  bool max_length_set_by_call = false;

  // generation_config.json in `dir`, else config.json through from_model_config. NotFoundError when neither exists.
  static GenerationConfig from_pretrained(const std::filesystem::path& dir);
  // transformers' GenerationConfig.from_model_config: the generation fields of a model config.json (and of its
  // "decoder" / "generator" / "text_config" sub-config where the top level leaves them at their defaults).
  static GenerationConfig from_model_config(const Json& model_config);
  // GenerationConfig(**dict): every known key is set (InvalidArgument naming the key when its value has the wrong
  // type); unknown keys are ignored.
  static GenerationConfig from_json(const Json& dict);

  // GenerationConfig.update(**kwargs): sets the known keys, returns the others (as transformers returns the unused
  // kwargs, which generate() then reports as unused model_kwargs).
  Json update(const Json& kwargs);
  Json to_json() const;  // the non-default fields, as to_diff_dict() (plus every special token id)

  // transformers 4.31's checks of the settings on their own and against each other. Errors throw InvalidArgument
  // with transformers' ValueError text; warnings (UserWarning / logger.warning texts) are appended to `warnings`.
  void validate(std::vector<std::string>* warnings = nullptr) const;
};

// The keys GenerationConfig knows (for update / CLI help).
const std::vector<std::string>& generation_config_keys();

}  // namespace ortformers::generation
