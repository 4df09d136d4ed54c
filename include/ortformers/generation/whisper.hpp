#pragma once
// What transformers 4.31's WhisperForConditionalGeneration.generate does before GenerationMixin.generate: the
// `language` / `task` / `return_timestamps` arguments become forced_decoder_ids (with 4.31's precedence: config.json's
// forced_decoder_ids, then generation_config's, then the call's; language / task rebuild them), and
// return_timestamps adds WhisperTimeStampLogitsProcessor. The call's other kwargs then update the config as
// generate() does (a forced_decoder_ids kwarg replaces the list: language detection is then the model's free choice,
// not restricted to language tokens, as in 4.31).
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ortformers/core/json.hpp"
#include "ortformers/generation/generate.hpp"
#include "ortformers/generation/generation_config.hpp"
#include "ortformers/generation/logits_processors.hpp"
#include "ortformers/models/speech_seq2seq.hpp"

namespace ortformers::generation {

struct WhisperGenerateArgs {
  std::optional<bool> return_timestamps;
  std::optional<std::string> language;  // "en", "english", "<|en|>" (any case)
  std::optional<std::string> task;      // "transcribe" or "translate"
  std::optional<bool> is_multilingual;
};

struct WhisperGeneration {
  GenerationConfig config;               // what generate() gets (the call's kwargs applied)
  LogitsProcessorList logits_processor;  // WhisperTimeStampLogitsProcessor when return_timestamps
  Json unused_kwargs = Json::object();   // kwargs that are not GenerationConfig fields
};

// `generation_config`: the model's (generation_config.json); `model_config_forced_decoder_ids`: config.json's
// forced_decoder_ids (nullopt when absent or null); `kwargs`: the other generate() keyword arguments.
// InvalidArgument with transformers' text for an unknown language or task.
WhisperGeneration prepare_whisper_generation(
    GenerationConfig generation_config,
    const std::optional<std::vector<std::pair<std::int64_t, std::optional<std::int64_t>>>>&
        model_config_forced_decoder_ids,
    const WhisperGenerateArgs& args, const Json& kwargs = Json::object());

// WhisperForConditionalGeneration.generate (4.31) on an ORTModelForSpeechSeq2Seq: `inputs` are the encoder inputs
// (input_features [batch, 80, 3000]); `generation_config` the model's (GenerationConfig::from_pretrained of its
// folder when omitted); `kwargs` the other generate() keyword arguments (max_new_tokens, num_beams,
// forced_decoder_ids, suppress_tokens, ...; InvalidArgument "The following `model_kwargs` are not used by the model"
// for unknown ones). Sequences start with <|startoftranscript|> and the forced tokens, as transformers returns them.
GenerateOutput generate_whisper(const models::ORTModelForSpeechSeq2Seq& model, const TensorMap& inputs,
                                const GenerationConfig& generation_config, const WhisperGenerateArgs& args,
                                const Json& kwargs = Json::object(), GenerateOptions options = {});
GenerateOutput generate_whisper(const models::ORTModelForSpeechSeq2Seq& model, const TensorMap& inputs,
                                const WhisperGenerateArgs& args, const Json& kwargs = Json::object(),
                                GenerateOptions options = {});

}  // namespace ortformers::generation
