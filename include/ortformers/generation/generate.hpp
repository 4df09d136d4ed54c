#pragma once
// generate(): transformers 4.31's GenerationMixin.generate over a models::GenerativeModel — greedy search,
// multinomial sampling, beam search, beam sampling and group (diverse) beam search, with the logits processors,
// warpers and stopping criteria built as 4.31 builds them. Contrastive search (penalty_alpha), constrained beam
// search (force_words_ids / constraints) and classifier-free guidance (guidance_scale) are refused.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ortformers/core/tensor.hpp"
#include "ortformers/generation/generation_config.hpp"
#include "ortformers/generation/logits_processors.hpp"
#include "ortformers/generation/stopping_criteria.hpp"
#include "ortformers/generation/streamers.hpp"
#include "ortformers/models/decoder_step.hpp"

namespace ortformers::generation {

struct GenerateOptions {
  BaseStreamer* streamer = nullptr;  // greedy / sample only (transformers refuses a streamer with beams)
  LogitsProcessorList logits_processor;  // extra processors, after transformers' own
  // Stop strings (greedy / sample): a row finishes once decode(its new tokens) contains one of them.
  std::vector<std::string> stop_strings;
  StopStringCriteria::Decode decode;  // required with stop_strings
  std::vector<std::string>* warnings = nullptr;  // transformers' warnings as text (UserWarning, logger.warning)
};

struct GenerateOutput {
  Tensor sequences;             // int64 [rows, len]: prompt (or decoder start) + generated tokens, pad after the end
  std::vector<Tensor> scores;   // with output_scores: per step float32 [rows, vocab], the processed scores
  Tensor sequences_scores;      // beam methods with output_scores: float32 [rows]
  Tensor beam_indices;          // beam methods with output_scores: int64 [rows, len], -1 past the hypothesis
  std::vector<std::string> stop_strings_found;  // per row: the stop string that ended it ("" if none)
};

// Decoder-only: input_ids [batch, len] (left-padded) + attention_mask (undefined = all ones).
GenerateOutput generate(const models::GenerativeModel& model, const Tensor& input_ids, const Tensor& attention_mask,
                        const GenerationConfig& config, const GenerateOptions& options = {});

// Any model: `inputs` are the model inputs. Decoder-only: input_ids (+ attention_mask). Encoder-decoder: everything
// goes to model.start() (the encoder), the decoder starts from decoder_input_ids when given, else from
// decoder_start_token_id (bos_token_id when unset); input_ids, when present, feed the encoder_* processors.
GenerateOutput generate(const models::GenerativeModel& model, const TensorMap& inputs, const GenerationConfig& config,
                        const GenerateOptions& options = {});

}  // namespace ortformers::generation
