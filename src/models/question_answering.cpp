#include "ortformers/models/question_answering.hpp"

namespace ortformers::models {

ORTModelForQuestionAnswering ORTModelForQuestionAnswering::from_pretrained(const std::string& model_id_or_path,
                                                                           const ModelOptions& options) {
  return load_pretrained<ORTModelForQuestionAnswering>(model_id_or_path, options, "question-answering");
}

QuestionAnsweringModelOutput ORTModelForQuestionAnswering::forward(const TensorMap& inputs) const {
  TensorMap outputs = run(inputs);
  QuestionAnsweringModelOutput out;
  out.start_logits = take_output(outputs, "start_logits");
  out.end_logits = take_output(outputs, "end_logits");
  return out;
}

}  // namespace ortformers::models
