#pragma once
// optimum's ORTModelForConditionalGeneration: the encoder-decoder core shared by ORTModelForSeq2SeqLM (T5, BART),
// ORTModelForSpeechSeq2Seq (Whisper) and ORTModelForVision2Seq / Pix2Struct. It owns encoder_model.onnx and the
// decoder graph(s) as optimum 1.17 chooses them, runs the encoder, runs the decoder with or without past, and makes
// the DecoderStep that generation::generate() drives. A subclass only says how its encoder inputs are checked
// (encoder_feed: input_ids + attention_mask, input_features, pixel_values, ...).
//
// Decoder layouts (use_cache = true: merged when the folder has one, unless use_merged = false):
//   merged    decoder_model_merged.onnx, both decoders in one graph chosen by the boolean input use_cache_branch; the
//             first step feeds zeros (sequence length 1) for every past input and false, as optimum 1.17 does. The
//             cache branch returns empty encoder presents: the cross-attention key/values of the first step are kept.
//   split     decoder_model.onnx (first step, returns self- and cross-attention presents) +
//   decoder_with_past_model.onnx no_cache  use_cache = false: decoder_model.onnx alone, re-run over every decoder token
//   at each step.
// Decoder inputs are fed by name when the graph takes them: input_ids, encoder_hidden_states, encoder_attention_mask
// (absent for Whisper / ViT encoders), decoder_attention_mask (Pix2Struct), use_cache_branch, past_key_values.<i>.
// {decoder,encoder}.{key,value} (or past_key_values.<i>.{key,value}: self-attention only, cross-attention not cached).
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ortformers/models/decoder_step.hpp"
#include "ortformers/models/ort_model.hpp"

namespace ortformers::models {

struct EncoderDecoderOptions {
  ModelOptions base;  // subfolder, export_model, session, revision, ... (file_name: the decoder file to use)
  bool use_cache = true;
  // nullopt: the merged decoder when the folder has one (optimum's use_merged=None); true: require it; false: never.
  std::optional<bool> use_merged{};
  std::string encoder_file_name = "encoder_model.onnx";
};

enum class DecoderLayout { Merged, Split, NoCache };
const char* layout_name(DecoderLayout layout) noexcept;

// What the encoder produced: what the decoder attends to.
struct EncoderOutput {
  Tensor last_hidden_state;  // [batch, encoder_sequence_length, hidden] (float32 / float16 as the graph)
  Tensor attention_mask;     // int64 [batch, encoder_sequence_length]; undefined when the encoder takes none
};

// One decoder layer's cache, as optimum's past_key_values tuple: self-attention key / value [batch, heads,
// past_decoder_sequence_length, head_dim], cross-attention key / value [batch, heads, encoder_sequence_length,
// head_dim] (undefined when the decoder does not cache them).
struct DecoderLayerCache {
  Tensor self_key;
  Tensor self_value;
  Tensor cross_key;
  Tensor cross_value;
};
using EncoderDecoderCache = std::vector<DecoderLayerCache>;

// optimum's Seq2SeqLMOutput.
struct Seq2SeqLMOutput {
  Tensor logits;                        // [batch, decoder_sequence_length, vocab]
  EncoderDecoderCache past_key_values;  // the presents; empty when use_cache is false
  Tensor encoder_last_hidden_state;     // the encoder output the decoder attended to
};

class ORTModelForConditionalGeneration : public ORTModel, public GenerativeModel {
 public:
  // Runs encoder_model.onnx on `inputs` (checked by the subclass's encoder_feed).
  EncoderOutput encode(const TensorMap& inputs) const;
  // One decoder run: decoder_input_ids [batch, new_len] given the encoder output and, optionally, the past (an
  // empty past = the first step; then the presents hold the cross-attention key/values too).
  // decoder_attention_mask: only for decoders that take one (Pix2Struct), [batch, past + new_len], default ones.
  Seq2SeqLMOutput decode(const Tensor& decoder_input_ids, const EncoderOutput& encoder_output,
                         const EncoderDecoderCache& past_key_values = {},
                         const Tensor& decoder_attention_mask = {}) const;

  // GenerativeModel: runs the encoder on encoder_inputs (input_ids + attention_mask, input_features, ...) and
  // returns a state with one row per encoder row.
  std::unique_ptr<DecoderStep> start(const TensorMap& encoder_inputs = {}) const override;
  // A state over an encoder output computed before (transformers' encoder_outputs reuse).
  std::unique_ptr<DecoderStep> start(const EncoderOutput& encoder_output) const;
  bool is_encoder_decoder() const override { return true; }
  std::int64_t vocab_size() const override;
  std::int64_t max_positions() const override;  // the decoder's positions (max_position_embeddings, ...), 0 = none

  bool use_cache() const noexcept;
  bool use_merged() const noexcept;
  DecoderLayout layout() const noexcept;
  const std::filesystem::path& encoder_path() const noexcept;
  const std::filesystem::path& decoder_path() const noexcept;            // merged, or decoder_model.onnx
  const std::filesystem::path& decoder_with_past_path() const noexcept;  // split: decoder_with_past_model.onnx
  const runtime::Session& decoder_session() const noexcept;
  std::int64_t num_layers() const noexcept;
  bool caches_cross_attention() const noexcept;  // the decoder has past_key_values.<i>.encoder.* inputs

  struct Graphs;  // sessions + cache layout, shared with the DecoderSteps (which may outlive the model object)

 protected:
  ORTModelForConditionalGeneration() = default;
  // from_pretrained's body: resolves the folder (export task `task`), chooses the files, opens the sessions.
  // class_name names the class in errors.
  void load_encoder_decoder(const std::string& model_id_or_path, const EncoderDecoderOptions& options,
                            const std::string& task, const char* class_name);
  // The encoder's feed from the caller's inputs: the subclass checks and completes them (names, dtypes, shapes)
  // and says which tensor is the encoder attention mask (undefined when none). Default: the inputs the encoder
  // graph declares, attention_mask as the mask, an InvalidArgument for a missing or unknown input.
  virtual TensorMap encoder_feed(const TensorMap& inputs, Tensor& attention_mask) const;

  std::shared_ptr<const Graphs> graphs_;
};

}  // namespace ortformers::models
