#include "ortformers/models/audio_frame_classification.hpp"

namespace ortformers::models {

ORTModelForAudioFrameClassification ORTModelForAudioFrameClassification::from_pretrained(
    const std::string& model_id_or_path, const ModelOptions& options) {
  return load_pretrained<ORTModelForAudioFrameClassification>(model_id_or_path, options, "audio-frame-classification");
}

AudioFrameClassifierOutput ORTModelForAudioFrameClassification::forward(const TensorMap& inputs) const {
  return {take_output(run(audio_feed(inputs)), "logits")};
}

}  // namespace ortformers::models
