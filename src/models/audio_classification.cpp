#include "ortformers/models/audio_classification.hpp"

namespace ortformers::models {

ORTModelForAudioClassification ORTModelForAudioClassification::from_pretrained(const std::string& model_id_or_path,
                                                                               const ModelOptions& options) {
  return load_pretrained<ORTModelForAudioClassification>(model_id_or_path, options, "audio-classification");
}

AudioClassifierOutput ORTModelForAudioClassification::forward(const TensorMap& inputs) const {
  return {take_output(run(audio_feed(inputs)), "logits")};
}

}  // namespace ortformers::models
