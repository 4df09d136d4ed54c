#include "ortformers/models/ctc.hpp"

namespace ortformers::models {

ORTModelForCTC ORTModelForCTC::from_pretrained(const std::string& model_id_or_path, const ModelOptions& options) {
  ORTModelForCTC model;
  model.load(model_id_or_path, options, "automatic-speech-recognition");
  return model;
}

CTCOutput ORTModelForCTC::forward(const TensorMap& inputs) const {
  TensorMap outputs = run(audio_feed(inputs));
  CTCOutput out;
  out.logits = take_output(outputs, "logits");
  return out;
}

}  // namespace ortformers::models
