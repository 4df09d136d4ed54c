#pragma once
// GPT-2's decoder (transformers 4.31 modeling_gpt2.py), shared by the text-generation export (gpt2.cpp) and the
// decoder of a VisionEncoderDecoderModel (vision_encoder_decoder.cpp), where GPT-2 has cross-attention blocks.
#include <cstdint>
#include <string>

#include "export/architectures/decoder_family.hpp"

namespace ortformers::exporters {

// The GPT-2 fields of config.json (n_embd, n_head, n_layer, vocab_size, n_positions, n_inner, layer_norm_epsilon,
// activation_function, scale_attn_weights, scale_attn_by_inverse_layer_idx); InvalidArgument naming a bad field.
struct Gpt2Settings {
  std::int64_t embed = 0, heads = 0, layers = 0, vocab = 0, positions = 0, inner = 0;
  float eps = 1e-5f;
  std::string activation = "gelu_new";
  bool scale_attn_weights = true, scale_attn_by_inverse_layer_idx = false;
  DecoderDims dims() const { return {layers, heads, heads, embed / heads, vocab}; }
};
Gpt2Settings gpt2_settings(const config::PretrainedConfig& c);

// Token + position embeddings, the blocks, ln_f and the LM head (tied to wte unless the checkpoint has its own
// lm_head.weight) on the inputs of `dg`; returns the logits [batch, new, vocab]. With `encoder_hidden_states`
// ([batch, encoder_length, n_embd]) every block has its cross-attention (ln_cross_attn, crossattention.q_attn /
// c_attn / c_proj; no mask, as VisionEncoderDecoderModel passes none; not cached: recomputed at every step).
std::string gpt2_logits(BuildContext& ctx, DecoderGraph& dg, const Gpt2Settings& s,
                        const std::string& encoder_hidden_states = "");

}  // namespace ortformers::exporters
