#pragma once
// The Wav2Vec2 family (wav2vec2.cpp): convolutional feature encoder, feature projection, positional convolution,
// transformer encoder and the audio heads (CTC, sequence / frame classification, x-vector), shared by Wav2Vec2,
// HuBERT and WavLM. A member of the family that differs only in its encoder layers (WavLM's gated relative
// position bias) overrides encoder_layer().
#include <string>
#include <vector>

#include "export/architectures/architecture.hpp"

namespace ortformers::exporters {

class Wav2Vec2 : public Architecture {
 public:
  // model_type ("wav2vec2"), transformers class prefix ("Wav2Vec2"), base_model_prefix, and whether HuBERT's
  // differences apply (feature projection LayerNorm only with feat_proj_layer_norm; no frame / x-vector heads).
  Wav2Vec2(std::string model_type, std::string class_prefix, std::string base_prefix, bool hubert);

  std::vector<std::string> model_types() const override { return {model_type_}; }
  std::string base_model_prefix() const override { return base_prefix_; }
  std::vector<std::string> tasks() const override;
  bool token_inputs() const override { return false; }
  std::string task_for_class(const std::string& class_name) const override;
  std::vector<GraphOutput> build_graph(BuildContext& ctx, const std::string& task) const override;

 protected:
  // UnsupportedError naming the field for configurations the exporter does not handle.
  virtual void check_config(const config::PretrainedConfig& c) const;
  // Encoder layer `index` on x [batch, frames, hidden]: post-LN (transformer_layer) or, with do_stable_layer_norm,
  // pre-LN. `state` starts empty and is carried from one layer to the next.
  virtual std::string encoder_layer(BuildContext& ctx, std::int64_t index, const std::string& scope,
                                    const std::string& x, const LayerNames& n, const LayerDims& d, bool stable,
                                    std::string& state) const;

 private:
  std::string feature_encoder(BuildContext& ctx, std::string x) const;
  std::string feature_projection(BuildContext& ctx, std::string x, std::int64_t H, float eps) const;
  std::string positional_conv_weight(BuildContext& ctx, std::int64_t H, std::int64_t per_group, std::int64_t K) const;
  std::string encoder(BuildContext& ctx, std::string x, std::int64_t H, float eps,
                      std::vector<std::string>& hidden_states) const;
  std::string weighted_layer_sum(BuildContext& ctx, const std::string& last,
                                 const std::vector<std::string>& hidden_states) const;
  std::vector<GraphOutput> xvector_head(BuildContext& ctx, const std::string& h, std::int64_t H) const;

  std::string model_type_, class_prefix_, base_prefix_;
  bool hubert_;
};

}  // namespace ortformers::exporters
