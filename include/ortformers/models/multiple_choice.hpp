#pragma once
// optimum's ORTModelForMultipleChoice: inputs [batch, num_choices, seq], logits [batch, num_choices].
// transformers has no multiple-choice pipeline; encode_choices/forward_choices do what its docs show:
// tokenizer([prompt] * n, choices, padding=True) reshaped to [1, n, seq].
#include <optional>
#include <string>
#include <vector>

#include "ortformers/models/ort_model.hpp"

namespace ortformers::tokenizers {
class PreTrainedTokenizer;
}

namespace ortformers::models {

struct MultipleChoiceModelOutput {
  Tensor logits;  // [batch, num_choices]
};

class ORTModelForMultipleChoice : public ORTModel {
 public:
  static ORTModelForMultipleChoice from_pretrained(const std::string& model_id_or_path,
                                                   const ModelOptions& options = {});
  // input_ids, attention_mask (+ token_type_ids) of shape [batch, num_choices, seq].
  MultipleChoiceModelOutput forward(const TensorMap& inputs) const;
  MultipleChoiceModelOutput operator()(const TensorMap& inputs) const { return forward(inputs); }

  // The pair encodings (prompt, choice_i) padded together as [1, n, seq] tensors named as the model expects.
  // truncation/max_length as the tokenizer call (longest_first over each pair). InvalidArgument for no choices.
  static TensorMap encode_choices(const tokenizers::PreTrainedTokenizer& tokenizer, const std::string& prompt,
                                  const std::vector<std::string>& choices, bool truncation = false,
                                  std::optional<std::size_t> max_length = std::nullopt);
  // encode_choices + forward: logits [1, n].
  MultipleChoiceModelOutput forward_choices(const tokenizers::PreTrainedTokenizer& tokenizer, const std::string& prompt,
                                            const std::vector<std::string>& choices) const;
};

}  // namespace ortformers::models
