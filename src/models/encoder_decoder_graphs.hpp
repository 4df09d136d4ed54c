#pragma once
// Internal: what ORTModelForConditionalGeneration and its DecoderStep share: the sessions, the cache layout read from
// the decoder graphs (and config.json where the graph's dimensions are symbolic) and one decoder run.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "decoder_common.hpp"
#include "ortformers/models/encoder_decoder.hpp"
#include "ortformers/runtime/session.hpp"

namespace ortformers::models {

struct ORTModelForConditionalGeneration::Graphs {
  std::shared_ptr<runtime::Session> encoder;
  std::shared_ptr<runtime::Session> first;      // a run without past (merged: the merged graph; else decoder_model)
  std::shared_ptr<runtime::Session> with_past;  // a run with past (merged: = first); null for NoCache
  std::filesystem::path encoder_path, decoder_path, with_past_path;
  DecoderLayout layout = DecoderLayout::Merged;
  std::string class_name;
  std::int64_t num_layers = 0;
  std::int64_t heads = 0;  // self-attention key/value heads
  std::int64_t head_dim = 0;
  std::int64_t vocab = 0;
  std::int64_t max_positions = 0;
  std::string max_positions_field;
  DType cache_dtype = DType::Float32;
  // Interleaved per layer (key, value): the self-attention past inputs / present outputs, and the cross-attention
  // ones (empty when the decoder does not cache cross-attention, e.g. GPT-2 as a VisionEncoderDecoder decoder).
  std::vector<std::string> self_past, self_present, cross_past, cross_present;

  bool caches() const noexcept { return layout != DecoderLayout::NoCache; }
  bool caches_cross() const noexcept { return !cross_past.empty(); }
  runtime::Session& session_for(std::int64_t past_len) const { return past_len > 0 && with_past ? *with_past : *first; }

  struct Run {
    Tensor logits;
    std::vector<Tensor> self;   // self-attention presents (interleaved), empty without cache
    std::vector<Tensor> cross;  // cross-attention presents: only from a run without past
  };
  // One decoder run. ids: int64 [rows, new_len] (checked); self_past / cross_past: empty for the first step
  // (cross_past may also be empty at later steps when the decoder does not cache it); decoder_mask: int64
  // [rows, past + new_len] for decoders that take decoder_attention_mask.
  Run run(const Tensor& ids, const EncoderOutput& encoder, const Tensor& decoder_mask,
          const std::vector<Tensor>& self_past, const std::vector<Tensor>& cross_past, std::int64_t past_len) const;
  // decoder_attention_mask as int64 [rows, total] (undefined: ones); InvalidArgument naming `what` otherwise.
  Tensor check_decoder_mask(const Tensor& mask, std::int64_t rows, std::int64_t total, const std::string& what) const;
};

// The DecoderStep of the encoder-decoder models (encoder_decoder_step.cpp).
std::unique_ptr<DecoderStep> make_encoder_decoder_step(
    std::shared_ptr<const ORTModelForConditionalGeneration::Graphs> graphs, EncoderOutput encoder_output);

}  // namespace ortformers::models
