#include "ortformers/models/ctc.hpp"

namespace ortformers::models {

ORTModelForCTC ORTModelForCTC::from_pretrained(const std::string& model_id_or_path, const ModelOptions& options) {
  return load_pretrained<ORTModelForCTC>(model_id_or_path, options, "automatic-speech-recognition");
}

CTCOutput ORTModelForCTC::forward(const TensorMap& inputs) const {
  return {take_output(run(audio_feed(inputs)), "logits")};
}

}  // namespace ortformers::models
