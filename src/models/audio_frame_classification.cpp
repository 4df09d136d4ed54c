#include "ortformers/models/audio_frame_classification.hpp"

namespace ortformers::models {

ORTModelForAudioFrameClassification ORTModelForAudioFrameClassification::from_pretrained(
    const std::string& model_id_or_path, const ModelOptions& options) {
  ORTModelForAudioFrameClassification model;
  model.load(model_id_or_path, options, "audio-frame-classification");
  return model;
}

AudioFrameClassifierOutput ORTModelForAudioFrameClassification::forward(const TensorMap& inputs) const {
  // optimum passes attention_mask only when the graph declares it (base wav2vec2 checkpoints take none).
  TensorMap feed = inputs;
  if (!session().has_input("attention_mask")) feed.erase("attention_mask");
  TensorMap outputs = run(feed);
  AudioFrameClassifierOutput out;
  out.logits = take_output(outputs, "logits");
  return out;
}

}  // namespace ortformers::models
