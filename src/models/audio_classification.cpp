#include "ortformers/models/audio_classification.hpp"

namespace ortformers::models {

ORTModelForAudioClassification ORTModelForAudioClassification::from_pretrained(const std::string& model_id_or_path,
                                                                               const ModelOptions& options) {
  ORTModelForAudioClassification model;
  model.load(model_id_or_path, options, "audio-classification");
  return model;
}

AudioClassifierOutput ORTModelForAudioClassification::forward(const TensorMap& inputs) const {
  TensorMap outputs = run(audio_feed(inputs));
  AudioClassifierOutput out;
  out.logits = take_output(outputs, "logits");
  return out;
}

}  // namespace ortformers::models
