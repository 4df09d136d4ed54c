#include "ortformers/models/ctc.hpp"

namespace ortformers::models {

ORTModelForCTC ORTModelForCTC::from_pretrained(const std::string& model_id_or_path, const ModelOptions& options) {
  ORTModelForCTC model;
  model.load(model_id_or_path, options, "automatic-speech-recognition");
  return model;
}

CTCOutput ORTModelForCTC::forward(const TensorMap& inputs) const {
  // optimum passes attention_mask only when the graph declares it (base wav2vec2 checkpoints take none).
  TensorMap feed = inputs;
  if (!session().has_input("attention_mask")) feed.erase("attention_mask");
  TensorMap outputs = run(feed);
  CTCOutput out;
  out.logits = take_output(outputs, "logits");
  return out;
}

}  // namespace ortformers::models
