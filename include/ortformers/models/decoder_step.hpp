#pragma once
// The one interface between generation/ and the generative model classes (ORTModelForCausalLM, Seq2SeqLM,
// SpeechSeq2Seq, Vision2Seq, ...): "next-token logits for these new tokens, given this cache". Generation never sees
// ONNX names, past_key_values layouts or position ids; a model never sees sampling or beams. The server's continuous
// batcher drives the same interface with its own scheduler (one DecoderStep per sequence group).
#include <cstdint>
#include <memory>
#include <span>

#include "ortformers/core/tensor.hpp"

namespace ortformers::models {

// A decoding state over `rows` sequences: the KV cache (and, for encoder-decoder models, the encoder's outputs).
// Made by a GenerativeModel; not thread-safe (one generation loop owns it).
class DecoderStep {
 public:
  virtual ~DecoderStep() = default;

  // Feeds `input_ids` [rows, new_len] (int64): the whole (left-padded) prompt at the first call, then one token per
  // row. `attention_mask` [rows, past_length() + new_len] (int64, 1 = real token) covers every token so far, as
  // transformers' generate() keeps it; decoder-only models derive position_ids from it (cumsum - 1, 1 where masked).
  // Returns the float32 logits of the last position, [rows, vocab], after which past_length() grows by new_len.
  virtual Tensor step(const Tensor& input_ids, const Tensor& attention_mask) = 0;

  // Row i of the state becomes row rows[i] of the old state (beam search's reorder_cache; also expands a batch to
  // batch * num_beams rows, or drops finished rows). Valid before the first step too (then it reorders the encoder
  // outputs, for encoder-decoder models). rows may repeat indices.
  virtual void select_rows(std::span<const std::int64_t> rows) = 0;

  // A hint before the first step: no row will hold more than `max_length` tokens (prompt + new tokens; generate()
  // passes its max_length), so a state that preallocates its cache (ORTModelForCausalLM's shared past/present
  // buffer) sizes it once. Not a limit: a longer cache still works (the buffer grows, with one copy). Default:
  // ignored.
  virtual void reserve(std::int64_t max_length) { (void)max_length; }

  virtual std::int64_t rows() const = 0;         // current number of rows
  virtual std::int64_t past_length() const = 0;  // tokens in the cache

  // Continuous batching (the server's scheduler: sequences join a running batch and leave it at any step).
  // append_rows: the rows of `other` (a state of the same model) follow this state's rows; `other` is left with 0
  // rows. When the past lengths differ, the shorter past is left-padded with zeros to the longer one: the caller masks
  // the padded positions (attention_mask 0 there), and since decoder-only position ids come from the mask, every row's
  // next logits equal those of its own state. A state with 0 rows takes `other` as it is. UnsupportedError when the
  // model cannot (a graph without position_ids counts padding as positions, so only equal past lengths join; the
  // encoder-decoder states do not implement it).
  virtual void append_rows(DecoderStep& other);
  // Drops the first `count` cached positions of every row (left padding that every row masks), so past_length()
  // shrinks by count. The caller drops the same columns of its attention mask.
  virtual void trim_past(std::int64_t count);
};

// Everything that can make a DecoderStep: what generation::generate() takes.
class GenerativeModel {
 public:
  virtual ~GenerativeModel() = default;
  // A fresh state. Decoder-only models ignore `encoder_inputs` (empty cache with 0 rows until the first step);
  // encoder-decoder models run their encoder on them (input_ids + attention_mask, input_features, pixel_values ...)
  // and the state has one row per encoder batch row.
  virtual std::unique_ptr<DecoderStep> start(const TensorMap& encoder_inputs = {}) const = 0;
  virtual bool is_encoder_decoder() const = 0;
  virtual std::int64_t vocab_size() const = 0;
  // The largest number of tokens the decoder's positions allow (max_position_embeddings / n_positions), 0 = unknown.
  virtual std::int64_t max_positions() const { return 0; }
};

}  // namespace ortformers::models
