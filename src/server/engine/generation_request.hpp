#pragma once
// What a generation route hands the scheduler (one sequence: tokenized prompt, sampling parameters, callbacks) and
// what comes back (tokens as they are chosen, then the result). Parameters are named as TGI's `parameters` and
// transformers' GenerationConfig; presence / frequency penalties as OpenAI defines them.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ortformers/core/tensor.hpp"
#include "ortformers/generation/generation_config.hpp"

namespace ortformers::server {

struct GenerationParams {
  std::int64_t max_new_tokens = 20;
  bool do_sample = false;  // multinomial sampling (else greedy: the first maximum)
  double temperature = 1.0;
  std::optional<std::int64_t> top_k;  // unset / 0 = off (TGI's default, not transformers' 50)
  double top_p = 1.0;
  double typical_p = 1.0;
  double repetition_penalty = 1.0;  // transformers' RepetitionPenaltyLogitsProcessor (prompt + generated tokens)
  double presence_penalty = 0.0;    // OpenAI: logit -= presence if the token was generated
  double frequency_penalty = 0.0;   // OpenAI: logit -= frequency x times the token was generated
  std::optional<std::uint64_t> seed;
  std::vector<std::string> stop;  // stop strings, found in the decoded new text
  std::int64_t top_n_tokens = 0;  // alternatives (id, logprob) reported per token
  // Whether GeneratedToken::logprob is wanted. When false and top_n_tokens is 0, no log-softmax over the vocabulary
  // is computed (logprob stays 0); the chosen tokens are the same.
  bool logprobs = true;
};

struct TokenLogprob {
  std::int64_t id = 0;
  float logprob = 0;
};

struct GeneratedToken {
  std::int64_t id = 0;
  std::string text;   // the text this token adds to generated_text (held-back bytes come with a later token)
  float logprob = 0;  // log-softmax of the scores it was chosen from (after processors and warpers)
  bool special = false;
  std::vector<TokenLogprob> top;  // top_n_tokens best alternatives, best first
};

enum class FinishReason { Length, EosToken, StopSequence, Cancelled, Error };
const char* to_string(FinishReason reason) noexcept;  // TGI's: "length", "eos_token", "stop_sequence", ...

struct GenerationResult {
  std::vector<GeneratedToken> tokens;
  std::string generated_text;  // decode(new tokens, skip_special_tokens) = the concatenation of the token texts
  FinishReason finish_reason = FinishReason::Length;
  std::string stop_sequence;          // the stop string found (StopSequence)
  std::size_t stop_position = 0;      // where it starts in generated_text
  std::optional<std::uint64_t> seed;  // the seed used when sampling
  std::size_t prompt_tokens = 0;
  std::string error;        // FinishReason::Error: what failed
  bool overloaded = false;  // Error because the server stopped or was overloaded
  double queue_seconds = 0, first_token_seconds = 0, total_seconds = 0;
};

struct GenerationRequest {
  std::vector<std::int64_t> prompt;
  GenerationParams params;
  // Speech encoder-decoder models (Whisper): the encoder's input_features [1, num_mel_bins, frames] instead of a
  // token prompt (`prompt` stays empty), and the encoder positions its cross-attention cache holds (counted in the
  // token budget as prompt tokens are).
  Tensor input_features;
  std::size_t encoder_tokens = 0;
  // This request's generation_config (Whisper: the model's with the request's language / task made forced_decoder_ids,
  // as generate_whisper prepares it); null = the scheduler's (the model's).
  std::shared_ptr<const generation::GenerationConfig> generation_config;
  // Polled once per step: true stops the row (a client that went away).
  std::function<bool()> cancelled;
  // Each chosen token, in order, on the scheduler thread (`last` for the final one). May be empty.
  std::function<void(const GeneratedToken& token, bool last)> on_token;
  // Exactly once, on the scheduler thread (or the caller's, when the request is refused by submit).
  std::function<void(GenerationResult)> on_done;
  std::chrono::steady_clock::time_point enqueued{};
};

// The KV-cache tokens a request reserves in the running batch: prompt (or encoder positions) + max_new_tokens.
inline std::size_t reserved_tokens(const GenerationRequest& r) {
  return r.prompt.size() + r.encoder_tokens + static_cast<std::size_t>(r.params.max_new_tokens);
}

}  // namespace ortformers::server
