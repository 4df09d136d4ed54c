#include "ortformers/models/masked_lm.hpp"

namespace ortformers::models {

ORTModelForMaskedLM ORTModelForMaskedLM::from_pretrained(const std::string& model_id_or_path,
                                                         const ModelOptions& options) {
  ORTModelForMaskedLM model;
  model.load(model_id_or_path, options, "fill-mask");
  return model;
}

MaskedLMOutput ORTModelForMaskedLM::forward(const TensorMap& inputs) const {
  TensorMap outputs = run(inputs);
  MaskedLMOutput out;
  out.logits = take_output(outputs, "logits");
  return out;
}

}  // namespace ortformers::models
