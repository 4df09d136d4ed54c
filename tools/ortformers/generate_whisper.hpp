#pragma once
// `ortformers generate` for Whisper models (ORTModelForSpeechSeq2Seq): see generate_whisper.cpp.
#include <vector>

#include "cli_util.hpp"
#include "ortformers/core/json.hpp"

namespace ortformers::cli {

// Each input line: {"audio": path | [path, ...]} (decoded as the ASR pipeline decodes files, 16 kHz, then the
// WhisperFeatureExtractor) or {"input_features": [[[...]]]} ([batch, 80, 3000] or one [80, 3000]), plus an optional
// "parameters" object of generate kwargs (language, task, return_timestamps, max_new_tokens, num_beams, ...).
// Output line: {"sequences": [[...]]} (<|startoftranscript|> and the forced tokens first), with output_scores also
// "scores" and, for beams, "sequences_scores".
int generate_whisper_lines(const ModelArgs& model, const Json& options, const std::vector<Json>& inputs);

}  // namespace ortformers::cli
