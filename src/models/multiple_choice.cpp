#include "ortformers/models/multiple_choice.hpp"

namespace ortformers::models {

ORTModelForMultipleChoice ORTModelForMultipleChoice::from_pretrained(const std::string& model_id_or_path,
                                                                     const ModelOptions& options) {
  ORTModelForMultipleChoice model;
  model.load(model_id_or_path, options, "multiple-choice");
  return model;
}

MultipleChoiceModelOutput ORTModelForMultipleChoice::forward(const TensorMap& inputs) const {
  TensorMap outputs = run(inputs);
  MultipleChoiceModelOutput out;
  out.logits = take_output(outputs, "logits");
  return out;
}

}  // namespace ortformers::models
