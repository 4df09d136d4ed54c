#include "ortformers/models/masked_lm.hpp"

namespace ortformers::models {

ORTModelForMaskedLM ORTModelForMaskedLM::from_pretrained(const std::string& model_id_or_path,
                                                         const ModelOptions& options) {
  return load_pretrained<ORTModelForMaskedLM>(model_id_or_path, options, "fill-mask");
}

MaskedLMOutput ORTModelForMaskedLM::forward(const TensorMap& inputs) const {
  return {take_output(run(inputs), "logits")};
}

}  // namespace ortformers::models
