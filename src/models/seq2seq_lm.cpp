#include "ortformers/models/seq2seq_lm.hpp"

#include "encoder_decoder_graphs.hpp"
#include "ortformers/core/error.hpp"

namespace ortformers::models {

ORTModelForSeq2SeqLM ORTModelForSeq2SeqLM::from_pretrained(const std::string& model_id_or_path,
                                                           const Seq2SeqLMOptions& options) {
  ORTModelForSeq2SeqLM m;
  m.load_encoder_decoder(model_id_or_path, options, "text2text-generation-with-past", "ORTModelForSeq2SeqLM");
  for (const char* name : {"input_ids", "attention_mask"}) {
    if (!m.graphs_->encoder->has_input(name)) {
      throw UnsupportedError("ORTModelForSeq2SeqLM: the encoder " + m.graphs_->encoder_path.string() + " has no '" +
                             name + "' input (not a text encoder)");
    }
  }
  return m;
}

TensorMap ORTModelForSeq2SeqLM::encoder_feed(const TensorMap& inputs, Tensor& attention_mask) const {
  const std::string what = "ORTModelForSeq2SeqLM encoder";
  for (const auto& [name, t] : inputs) {
    if (name != "input_ids" && name != "attention_mask") {
      throw InvalidArgument(what + ": unexpected input '" + name + "' (the encoder takes input_ids, attention_mask)");
    }
  }
  auto it = inputs.find("input_ids");
  if (it == inputs.end()) throw InvalidArgument(what + ": input_ids is required");
  const Tensor ids = check_token_ids(it->second, graphs_->vocab, what);
  Tensor mask;
  if (auto m = inputs.find("attention_mask"); m != inputs.end() && m->second.defined()) {
    if (m->second.shape() != ids.shape()) {
      throw InvalidArgument(what + ": attention_mask has shape " + shape_to_string(m->second.shape()) +
                            " but input_ids has " + shape_to_string(ids.shape()));
    }
    const DType d = m->second.dtype();
    if (d != DType::Int64 && d != DType::Int32 && d != DType::Bool) {
      throw InvalidArgument(what + ": attention_mask must be int64 (or int32 / bool), got " + dtype_name(d));
    }
    mask = d == DType::Int64 ? m->second : m->second.to(DType::Int64);
  } else {
    mask = Tensor::from_vector(std::vector<std::int64_t>(static_cast<std::size_t>(ids.numel()), 1), ids.shape());
  }
  attention_mask = mask;
  return TensorMap{{"input_ids", ids}, {"attention_mask", mask}};
}

Seq2SeqLMOutput ORTModelForSeq2SeqLM::forward(const Tensor& input_ids, const Tensor& attention_mask,
                                              const Tensor& decoder_input_ids,
                                              const EncoderDecoderCache& past_key_values,
                                              const EncoderOutput* encoder_outputs) const {
  if (encoder_outputs) return decode(decoder_input_ids, *encoder_outputs, past_key_values);
  TensorMap in{{"input_ids", input_ids}};
  if (attention_mask.defined()) in.emplace("attention_mask", attention_mask);
  return decode(decoder_input_ids, encode(in), past_key_values);
}

}  // namespace ortformers::models
