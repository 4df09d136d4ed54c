// ORTModelForSeq2SeqLM (from_pretrained with optimum's file choice, encode, forward with past_key_values and
// encoder outputs reuse, generate). generate() releases the GIL while it runs (generate_with in generation.cpp).
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include "bindings.hpp"
#include "convert.hpp"
#include "ortformers/generation/generate.hpp"
#include "ortformers/models/seq2seq_lm.hpp"

namespace ortformers::python {

using namespace ortformers::models;

namespace {

py::list cache_to_python(const EncoderDecoderCache& past) {
  py::list out;
  for (const auto& l : past) {
    if (l.cross_key.defined()) {
      out.append(py::make_tuple(tensor_to_numpy(l.self_key), tensor_to_numpy(l.self_value),
                                tensor_to_numpy(l.cross_key), tensor_to_numpy(l.cross_value)));
    } else {
      out.append(py::make_tuple(tensor_to_numpy(l.self_key), tensor_to_numpy(l.self_value)));
    }
  }
  return out;
}

EncoderDecoderCache cache_from_python(const py::handle& value) {
  EncoderDecoderCache past;
  if (value.is_none()) return past;
  std::size_t i = 0;
  for (auto layer : value) {
    auto items = py::reinterpret_borrow<py::sequence>(layer);
    if (items.size() != 4 && items.size() != 2)
      throw InvalidArgument("past_key_values[" + std::to_string(i) +
                            "] must be a (self key, self value, cross key, cross value) tuple");
    const std::string at = "past_key_values[" + std::to_string(i) + "]";
    DecoderLayerCache l;
    l.self_key = tensor_from_python(items[0], at + "[0]");
    l.self_value = tensor_from_python(items[1], at + "[1]");
    if (items.size() == 4) {
      l.cross_key = tensor_from_python(items[2], at + "[2]");
      l.cross_value = tensor_from_python(items[3], at + "[3]");
    }
    past.push_back(std::move(l));
    ++i;
  }
  return past;
}

}  // namespace

void bind_seq2seq(py::module_& m) {
  // Accessors through lambdas: their member pointers belong to ORTModelForConditionalGeneration, which is not bound.
  py::class_<ORTModelForSeq2SeqLM, ORTModel>(m, "ORTModelForSeq2SeqLM")
      .def_static(
          "from_pretrained",
          [](const std::string& model_id_or_path, const ModelOptions& options, bool use_cache,
             std::optional<bool> use_merged) {
            Seq2SeqLMOptions o;
            o.base = options;
            o.use_cache = use_cache;
            o.use_merged = use_merged;
            py::gil_scoped_release release;
            return ORTModelForSeq2SeqLM::from_pretrained(model_id_or_path, o);
          },
          py::arg("model_id_or_path"), py::arg("options"), py::arg("use_cache") = true,
          py::arg("use_merged") = py::none())
      .def_property_readonly("use_cache", [](const ORTModelForSeq2SeqLM& self) { return self.use_cache(); })
      .def_property_readonly("use_merged", [](const ORTModelForSeq2SeqLM& self) { return self.use_merged(); })
      .def_property_readonly("num_layers", [](const ORTModelForSeq2SeqLM& self) { return self.num_layers(); })
      .def_property_readonly("vocab_size", [](const ORTModelForSeq2SeqLM& self) { return self.vocab_size(); })
      .def_property_readonly("encoder_path", [](const ORTModelForSeq2SeqLM& self) { return self.encoder_path(); })
      .def_property_readonly("decoder_path", [](const ORTModelForSeq2SeqLM& self) { return self.decoder_path(); })
      .def_property_readonly("decoder_with_past_path",
                             [](const ORTModelForSeq2SeqLM& self) { return self.decoder_with_past_path(); })
      .def_property_readonly(
          "generation_config",
          [](const ORTModelForSeq2SeqLM& self) {
            return json_to_python(generation::GenerationConfig::from_pretrained(self.model_dir()).to_json());
          })
      // encode(input_ids, attention_mask) -> last_hidden_state
      .def(
          "encode",
          [](const ORTModelForSeq2SeqLM& self, const py::handle& input_ids, const py::handle& attention_mask) {
            TensorMap in{{"input_ids", tensor_from_python(input_ids, "input_ids")}};
            if (!attention_mask.is_none())
              in.emplace("attention_mask", tensor_from_python(attention_mask, "attention_mask"));
            EncoderOutput out;
            {
              py::gil_scoped_release release;
              out = self.encode(in);
            }
            return tensor_to_numpy(out.last_hidden_state);
          },
          py::arg("input_ids"), py::arg("attention_mask") = py::none())
      // forward(...) -> (logits, past_key_values, encoder_last_hidden_state)
      .def(
          "forward",
          [](const ORTModelForSeq2SeqLM& self, const py::handle& input_ids, const py::handle& attention_mask,
             const py::handle& decoder_input_ids, const py::handle& encoder_last_hidden_state,
             const py::handle& past_key_values) {
            const Tensor ids = input_ids.is_none() ? Tensor() : tensor_from_python(input_ids, "input_ids");
            const Tensor mask =
                attention_mask.is_none() ? Tensor() : tensor_from_python(attention_mask, "attention_mask");
            if (decoder_input_ids.is_none())
              throw InvalidArgument("ORTModelForSeq2SeqLM.forward needs decoder_input_ids");
            const Tensor dec = tensor_from_python(decoder_input_ids, "decoder_input_ids");
            const EncoderDecoderCache past = cache_from_python(past_key_values);
            std::optional<EncoderOutput> enc;
            if (!encoder_last_hidden_state.is_none()) {
              enc = EncoderOutput{tensor_from_python(encoder_last_hidden_state, "encoder_outputs"), Tensor()};
              if (mask.defined()) enc->attention_mask = mask.to(DType::Int64);
            } else if (!ids.defined()) {
              throw InvalidArgument("ORTModelForSeq2SeqLM.forward needs input_ids or encoder_outputs");
            }
            Seq2SeqLMOutput out;
            {
              py::gil_scoped_release release;
              out = self.forward(ids, mask, dec, past, enc ? &*enc : nullptr);
            }
            return py::make_tuple(tensor_to_numpy(out.logits), cache_to_python(out.past_key_values),
                                  tensor_to_numpy(out.encoder_last_hidden_state));
          },
          py::arg("input_ids") = py::none(), py::arg("attention_mask") = py::none(),
          py::arg("decoder_input_ids") = py::none(), py::arg("encoder_last_hidden_state") = py::none(),
          py::arg("past_key_values") = py::none())
      .def(
          "generate",
          [](const ORTModelForSeq2SeqLM& self, const py::handle& inputs, const py::handle& config_dict,
             const py::handle& kwargs, const py::handle& streamer) {
            return generate_with(self, self.model_dir(), inputs, config_dict, kwargs, streamer);
          },
          py::arg("inputs"), py::arg("generation_config"), py::arg("kwargs"), py::arg("streamer"));
}

}  // namespace ortformers::python
