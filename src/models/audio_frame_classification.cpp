#include "ortformers/models/audio_frame_classification.hpp"

namespace ortformers::models {

ORTModelForAudioFrameClassification ORTModelForAudioFrameClassification::from_pretrained(
    const std::string& model_id_or_path, const ModelOptions& options) {
  ORTModelForAudioFrameClassification model;
  model.load(model_id_or_path, options, "audio-frame-classification");
  return model;
}

AudioFrameClassifierOutput ORTModelForAudioFrameClassification::forward(const TensorMap& inputs) const {
  TensorMap outputs = run(audio_feed(inputs));
  AudioFrameClassifierOutput out;
  out.logits = take_output(outputs, "logits");
  return out;
}

}  // namespace ortformers::models
