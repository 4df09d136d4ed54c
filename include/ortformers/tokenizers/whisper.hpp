#pragma once
// WhisperTokenizer's decoding (transformers 4.31 tokenization_whisper.py) over a PreTrainedTokenizer loaded from a
// Whisper folder: decode with skip_special_tokens / decode_with_timestamps / output_offsets, the language table, and
// the ASR pipeline's _decode_asr (timestamp chunks, language, and the merge of overlapping chunks by
// _find_longest_common_sequence). Timestamp ids (>= <|notimestamps|> + 1) are not in the vocabulary and decode to "".
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "ortformers/tokenizers/pretrained_tokenizer.hpp"

namespace ortformers::tokenizers {

// LANGUAGES (code -> name, the 99 languages of 4.31) and TO_LANGUAGE_CODE (name -> code, aliases last), in
// transformers' order.
const std::vector<std::pair<std::string, std::string>>& whisper_languages();
const std::vector<std::pair<std::string, std::string>>& whisper_to_language_code();
// LANGUAGES.get(code): the language name, nullopt when `code` is not a language code.
std::optional<std::string> whisper_language_name(const std::string& code);

struct WhisperDecodeOptions {
  bool skip_special_tokens = false;
  std::optional<bool> clean_up_tokenization_spaces;
  bool decode_with_timestamps = false;  // timestamps as "<|1.08|>" text
  double time_precision = 0.02;
};

struct WhisperOffset {
  std::string text;
  double start = 0, end = 0;  // seconds
};

// The first timestamp id: <|notimestamps|> + 1 (InvalidArgument when the tokenizer has no <|notimestamps|>).
std::int64_t whisper_timestamp_begin(const PreTrainedTokenizer& tokenizer);
// WhisperTokenizer.decode (skip_special_tokens also strips a <|startofprev|> prompt, as _strip_prompt).
std::string whisper_decode(const PreTrainedTokenizer& tokenizer, std::span<const std::int64_t> ids,
                           const WhisperDecodeOptions& options = {});
// decode(..., output_offsets=True)["offsets"]: _compute_offsets.
std::vector<WhisperOffset> whisper_compute_offsets(const PreTrainedTokenizer& tokenizer,
                                                   std::span<const std::int64_t> ids, double time_precision = 0.02);

// _find_longest_common_sequence of the Whisper ASR pipeline: the token sequences of overlapping chunks merged.
std::vector<std::int64_t> find_longest_common_sequence(const std::vector<std::vector<std::int64_t>>& sequences);

// One model output of the ASR pipeline: the generated tokens of a chunk, and its stride in seconds
// (chunk_len, stride_left, stride_right) when the audio was chunked.
struct AsrModelOutput {
  std::vector<std::int64_t> tokens;
  std::optional<std::array<double, 3>> stride;
};
struct AsrChunk {
  std::string text;
  std::optional<double> start, end;  // timestamp (None = nullopt)
  std::optional<std::string> language;
};
struct AsrDecoded {
  std::string text;
  std::vector<AsrChunk> chunks;  // every chunk (the pipeline returns them with return_timestamps / return_language)
};
// tokenizer._decode_asr(model_outputs, return_timestamps, return_language, time_precision). `warnings` receives
// transformers' logger.warning text when timestamps were asked for but the last token was not one.
AsrDecoded decode_asr(const PreTrainedTokenizer& tokenizer, const std::vector<AsrModelOutput>& model_outputs,
                      bool return_timestamps, bool return_language, double time_precision,
                      std::vector<std::string>* warnings = nullptr);

}  // namespace ortformers::tokenizers
