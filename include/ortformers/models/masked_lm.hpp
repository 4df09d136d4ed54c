#pragma once
// optimum's ORTModelForMaskedLM: logits [batch, seq, vocab_size].
// from_pretrained loads an ONNX folder (or exports a checkpoint with options.export_model), forward runs the graph.
#include <string>

#include "ortformers/models/ort_model.hpp"

namespace ortformers::models {

struct MaskedLMOutput {
  Tensor logits;  // [batch, seq, vocab]
};

class ORTModelForMaskedLM : public ORTModel {
 public:
  static ORTModelForMaskedLM from_pretrained(const std::string& model_id_or_path, const ModelOptions& options = {});
  // input_ids, attention_mask (+ token_type_ids, filled with zeros when the graph takes it and it is omitted).
  MaskedLMOutput forward(const TensorMap& inputs) const;
  MaskedLMOutput operator()(const TensorMap& inputs) const { return forward(inputs); }
};

}  // namespace ortformers::models
