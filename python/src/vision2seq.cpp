// ORTModelForVision2Seq and ORTModelForPix2Struct: from_pretrained (optimum's file choice), encode(inputs), forward
// (the encoder unless its output is given, then the decoder with past_key_values) and generate (generate_with).
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <type_traits>

#include "bindings.hpp"
#include "convert.hpp"
#include "ortformers/generation/generate.hpp"
#include "ortformers/models/vision2seq.hpp"

namespace ortformers::python {

using namespace ortformers::models;

namespace {

template <class M>
constexpr const char* name_of() {
  if constexpr (std::is_same_v<M, ORTModelForPix2Struct>)
    return "ORTModelForPix2Struct";
  else
    return "ORTModelForVision2Seq";
}

template <class M>
void bind_image_to_text(py::module_& m, const char* name) {
  py::class_<M, ORTModel>(m, name)
      .def_static(
          "from_pretrained",
          [](const std::string& model_id_or_path, const ModelOptions& options, bool use_cache,
             std::optional<bool> use_merged) {
            Vision2SeqOptions o;
            o.base = options;
            o.use_cache = use_cache;
            o.use_merged = use_merged;
            py::gil_scoped_release release;
            return M::from_pretrained(model_id_or_path, o);
          },
          py::arg("model_id_or_path"), py::arg("options"), py::arg("use_cache") = true,
          py::arg("use_merged") = py::none())
      .def_property_readonly("use_cache", [](const M& self) { return self.use_cache(); })
      .def_property_readonly("use_merged", [](const M& self) { return self.use_merged(); })
      .def_property_readonly("num_layers", [](const M& self) { return self.num_layers(); })
      .def_property_readonly("vocab_size", [](const M& self) { return self.vocab_size(); })
      .def_property_readonly("encoder_path", [](const M& self) { return self.encoder_path(); })
      .def_property_readonly("decoder_path", [](const M& self) { return self.decoder_path(); })
      .def_property_readonly(
          "generation_config",
          [](const M& self) {
            return json_to_python(generation::GenerationConfig::from_pretrained(self.model_dir()).to_json());
          })
      // encode({"pixel_values": ...} or {"flattened_patches": ..., "attention_mask": ...}) -> last_hidden_state
      .def(
          "encode",
          [](const M& self, const py::handle& inputs) {
            const TensorMap feed = tensors_from_mapping(inputs);
            EncoderOutput out;
            {
              py::gil_scoped_release release;
              out = self.encode(feed);
            }
            return tensor_to_numpy(out.last_hidden_state);
          },
          py::arg("inputs"))
      // forward(encoder inputs, decoder_input_ids, encoder_last_hidden_state, encoder_attention_mask,
      //         past_key_values, decoder_attention_mask) -> (logits, past_key_values, encoder_last_hidden_state)
      .def(
          "forward",
          [](const M& self, const py::handle& inputs, const py::handle& decoder_input_ids,
             const py::handle& encoder_last_hidden_state, const py::handle& encoder_attention_mask,
             const py::handle& past_key_values, const py::handle& decoder_attention_mask) {
            if (decoder_input_ids.is_none())
              throw InvalidArgument(std::string(name_of<M>()) + ".forward needs decoder_input_ids");
            const Tensor dec = tensor_from_python(decoder_input_ids, "decoder_input_ids");
            const EncoderDecoderCache past = cache_from_python(past_key_values);
            const Tensor dmask = decoder_attention_mask.is_none()
                                     ? Tensor()
                                     : tensor_from_python(decoder_attention_mask, "decoder_attention_mask");
            const TensorMap feed = inputs.is_none() ? TensorMap{} : tensors_from_mapping(inputs);
            Seq2SeqLMOutput out;
            {
              py::gil_scoped_release release;
              EncoderOutput enc;
              if (!encoder_last_hidden_state.is_none()) {
                py::gil_scoped_acquire acquire;
                enc.last_hidden_state = tensor_from_python(encoder_last_hidden_state, "encoder_outputs");
                if (!encoder_attention_mask.is_none())
                  enc.attention_mask = tensor_from_python(encoder_attention_mask, "attention_mask").to(DType::Int64);
              } else {
                if (feed.empty())
                  throw InvalidArgument(std::string(name_of<M>()) +
                                        ".forward needs the encoder's inputs or encoder_outputs");
                enc = self.encode(feed);
              }
              out = self.decode(dec, enc, past, dmask);
            }
            return py::make_tuple(tensor_to_numpy(out.logits), cache_to_python(out.past_key_values),
                                  tensor_to_numpy(out.encoder_last_hidden_state));
          },
          py::arg("inputs") = py::none(), py::arg("decoder_input_ids") = py::none(),
          py::arg("encoder_last_hidden_state") = py::none(), py::arg("encoder_attention_mask") = py::none(),
          py::arg("past_key_values") = py::none(), py::arg("decoder_attention_mask") = py::none())
      .def(
          "generate",
          [](const M& self, const py::handle& inputs, const py::handle& config_dict, const py::handle& kwargs,
             const py::handle& streamer) {
            return generate_with(self, self.model_dir(), inputs, config_dict, kwargs, streamer);
          },
          py::arg("inputs"), py::arg("generation_config"), py::arg("kwargs"), py::arg("streamer"));
}

}  // namespace

void bind_vision2seq(py::module_& m) {
  bind_image_to_text<ORTModelForVision2Seq>(m, "ORTModelForVision2Seq");
  bind_image_to_text<ORTModelForPix2Struct>(m, "ORTModelForPix2Struct");
}

}  // namespace ortformers::python
