#include "ortformers/models/multiple_choice.hpp"

#include <algorithm>

#include "ortformers/core/error.hpp"
#include "ortformers/tokenizers/pretrained_tokenizer.hpp"

namespace ortformers::models {

ORTModelForMultipleChoice ORTModelForMultipleChoice::from_pretrained(const std::string& model_id_or_path,
                                                                     const ModelOptions& options) {
  return load_pretrained<ORTModelForMultipleChoice>(model_id_or_path, options, "multiple-choice");
}

MultipleChoiceModelOutput ORTModelForMultipleChoice::forward(const TensorMap& inputs) const {
  return {take_output(run(inputs), "logits")};
}

TensorMap ORTModelForMultipleChoice::encode_choices(const tokenizers::PreTrainedTokenizer& tokenizer,
                                                    const std::string& prompt, const std::vector<std::string>& choices,
                                                    bool truncation, std::optional<std::size_t> max_length) {
  if (choices.empty()) throw InvalidArgument("multiple choice: at least one choice is needed");
  tokenizers::TokenizeOptions options;
  options.truncation = truncation;
  options.max_length = max_length;
  const auto batch = tokenizer(std::vector<std::string>(choices.size(), prompt), choices, options);
  std::size_t seq = 0;
  for (const auto& e : batch.encodings) seq = std::max(seq, e.ids.size());
  const auto n = static_cast<std::int64_t>(choices.size());
  const std::int64_t pad_id = tokenizer.pad_token_id().value_or(0);
  std::vector<std::int64_t> ids, types, mask;
  ids.reserve(choices.size() * seq);
  for (const auto& e : batch.encodings) {  // padding=True: right padding to the longest pair
    for (std::size_t i = 0; i < seq; ++i) {
      const bool real = i < e.ids.size();
      ids.push_back(real ? e.ids[i] : pad_id);
      types.push_back(real && i < e.type_ids.size() ? e.type_ids[i] : 0);
      mask.push_back(real ? 1 : 0);
    }
  }
  const Shape shape{1, n, static_cast<std::int64_t>(seq)};
  TensorMap m;
  m.emplace("input_ids", Tensor::from_vector(std::move(ids), shape));
  m.emplace("attention_mask", Tensor::from_vector(std::move(mask), shape));
  m.emplace("token_type_ids", Tensor::from_vector(std::move(types), shape));
  return m;
}

MultipleChoiceModelOutput ORTModelForMultipleChoice::forward_choices(const tokenizers::PreTrainedTokenizer& tokenizer,
                                                                     const std::string& prompt,
                                                                     const std::vector<std::string>& choices) const {
  TensorMap inputs = encode_choices(tokenizer, prompt, choices);
  if (!session().has_input("token_type_ids")) inputs.erase("token_type_ids");
  if (!session().has_input("attention_mask")) inputs.erase("attention_mask");
  return forward(inputs);
}

}  // namespace ortformers::models
