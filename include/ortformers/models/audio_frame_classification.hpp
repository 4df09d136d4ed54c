#pragma once
// optimum's ORTModelForAudioFrameClassification: input_values -> per-frame logits [batch, frames, num_labels].
// from_pretrained loads an ONNX folder (or exports a checkpoint with options.export_model); forward runs the graph
// on a batch.
#include <span>
#include <string>

#include "ortformers/models/ort_model.hpp"

namespace ortformers::models {

struct AudioFrameClassifierOutput {
  Tensor logits;  // [batch, frames, num_labels]
};

class ORTModelForAudioFrameClassification : public ORTModel {
 public:
  static ORTModelForAudioFrameClassification from_pretrained(const std::string& model_id_or_path,
                                                             const ModelOptions& options = {});
  // input_values [batch, samples] (+ attention_mask when the graph takes it).
  AudioFrameClassifierOutput forward(const TensorMap& inputs) const;
  AudioFrameClassifierOutput forward(const Tensor& input_values) const {
    return forward(TensorMap{{"input_values", input_values}});
  }
  AudioFrameClassifierOutput operator()(const TensorMap& inputs) const { return forward(inputs); }
  // True when the graph takes an attention_mask (base wav2vec2 checkpoints do not; it is then dropped).
  bool accepts_attention_mask() const { return session().has_input("attention_mask"); }
};

}  // namespace ortformers::models
