#pragma once
// optimum's ORTModelForAudioXVector: input_values -> logits and speaker embeddings; cosine_similarity for
// speaker verification.
// from_pretrained loads an ONNX folder (or exports a checkpoint with options.export_model); forward runs the graph
// on a batch.
#include <span>
#include <string>

#include "ortformers/models/ort_model.hpp"

namespace ortformers::models {

struct XVectorOutput {
  Tensor logits;      // [batch, xvector_output_dim] (AMSoftmax head)
  Tensor embeddings;  // [batch, xvector_output_dim]
};

class ORTModelForAudioXVector : public ORTModel {
 public:
  static ORTModelForAudioXVector from_pretrained(const std::string& model_id_or_path, const ModelOptions& options = {});
  // input_values [batch, samples] (+ attention_mask when the graph takes it).
  XVectorOutput forward(const TensorMap& inputs) const;
  XVectorOutput forward(const Tensor& input_values) const { return forward(TensorMap{{"input_values", input_values}}); }
  XVectorOutput operator()(const TensorMap& inputs) const { return forward(inputs); }
  // True when the graph takes an attention_mask (base wav2vec2 checkpoints do not; it is then dropped).
  bool accepts_attention_mask() const { return session().has_input("attention_mask"); }
};

// Cosine similarity of two embeddings (transformers' speaker-verification recipe: torch.nn.CosineSimilarity,
// eps 1e-8). InvalidArgument when the sizes differ or are zero.
float cosine_similarity(std::span<const float> a, std::span<const float> b);
// Row-wise L2 normalisation of [batch, dim] embeddings (torch.nn.functional.normalize(dim=-1)).
Tensor normalize_embeddings(const Tensor& embeddings);

}  // namespace ortformers::models
