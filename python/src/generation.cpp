// ORTModelForCausalLM (from_pretrained, forward with past_key_values, generate) and the streamers. generate()
// releases the GIL while it runs; a Python streamer (any object with put(ids) and end()) is called back with the
// GIL held. The C++ TextStreamer is exposed with a Python callback for its finalized text, which the package's
// TextStreamer prints (or a subclass handles, as transformers' on_finalized_text).
#include <pybind11/functional.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include "bindings.hpp"
#include "convert.hpp"
#include "ortformers/generation/generate.hpp"
#include "ortformers/generation/streamers.hpp"
#include "ortformers/models/causal_lm.hpp"
#include "ortformers/tokenizers/pretrained_tokenizer.hpp"

namespace ortformers::python {

using namespace ortformers::models;

namespace {

// A Python object with put(numpy int64 array) / end(), as transformers' BaseStreamer.
class PyStreamer : public generation::BaseStreamer {
 public:
  explicit PyStreamer(py::object target) : target_(std::move(target)) {}
  void put(std::span<const std::int64_t> value) override {
    py::gil_scoped_acquire gil;
    py::array_t<std::int64_t> a(static_cast<py::ssize_t>(value.size()));
    std::copy(value.begin(), value.end(), a.mutable_data());
    target_.attr("put")(a);
  }
  void end() override {
    py::gil_scoped_acquire gil;
    target_.attr("end")();
  }

 private:
  py::object target_;
};

// The C++ TextStreamer handing its text to a Python callable (called with the GIL held).
class PyTextStreamer : public generation::TextStreamer {
 public:
  PyTextStreamer(const tokenizers::PreTrainedTokenizer& tokenizer, bool skip_prompt, bool skip_special_tokens,
                 py::object callback)
      : TextStreamer(tokenizer, skip_prompt, skip_special_tokens), callback_(std::move(callback)) {}
  void on_finalized_text(const std::string& text, bool stream_end) override {
    py::gil_scoped_acquire gil;
    callback_(text, stream_end);
  }

 private:
  py::object callback_;
};

py::list past_to_python(const PastKeyValues& past) {
  py::list out;
  for (const auto& layer : past) out.append(py::make_tuple(tensor_to_numpy(layer.key), tensor_to_numpy(layer.value)));
  return out;
}

PastKeyValues past_from_python(const py::handle& value) {
  PastKeyValues past;
  if (value.is_none()) return past;
  std::size_t i = 0;
  for (auto layer : value) {
    auto items = py::reinterpret_borrow<py::sequence>(layer);
    if (items.size() != 2)
      throw InvalidArgument("past_key_values[" + std::to_string(i) + "] must be a (key, value) pair");
    past.push_back({tensor_from_python(items[0], "past_key_values[" + std::to_string(i) + "][0]"),
                    tensor_from_python(items[1], "past_key_values[" + std::to_string(i) + "][1]")});
    ++i;
  }
  return past;
}

}  // namespace

py::dict generate_with(const models::GenerativeModel& self, const std::filesystem::path& model_dir,
                       const py::handle& inputs, const py::handle& config_dict, const py::handle& kwargs,
                       const py::handle& streamer) {
  TensorMap feed = tensors_from_mapping(inputs);
  generation::GenerationConfig config = config_dict.is_none()
                                            ? generation::GenerationConfig::from_pretrained(model_dir)
                                            : generation::GenerationConfig::from_json(json_from_python(config_dict));
  const Json unused = config.update(json_from_python(kwargs));
  if (!unused.empty()) {
    std::string names;
    for (const auto& [k, v] : unused.items()) names += (names.empty() ? "'" : ", '") + k + "'";
    throw InvalidArgument("The following `model_kwargs` are not used by the model: [" + names +
                          "] (note: typos in the generate arguments will also show up in this list)");
  }
  std::vector<std::string> warnings;
  generation::GenerateOptions go;
  go.warnings = &warnings;
  std::unique_ptr<PyStreamer> py_streamer;
  if (!streamer.is_none()) {
    if (py::isinstance<generation::BaseStreamer>(streamer)) {
      go.streamer = streamer.cast<generation::BaseStreamer*>();
    } else {
      py_streamer = std::make_unique<PyStreamer>(py::reinterpret_borrow<py::object>(streamer));
      go.streamer = py_streamer.get();
    }
  }
  generation::GenerateOutput out;
  {
    py::gil_scoped_release release;
    out = generation::generate(self, feed, config, go);
  }
  py::dict result;
  result["sequences"] = tensor_to_numpy(out.sequences);
  if (config.output_scores) {
    py::list scores;
    for (const auto& s : out.scores) scores.append(tensor_to_numpy(s));
    result["scores"] = py::tuple(scores);
    if (out.sequences_scores.defined()) result["sequences_scores"] = tensor_to_numpy(out.sequences_scores);
    if (out.beam_indices.defined()) result["beam_indices"] = tensor_to_numpy(out.beam_indices);
  }
  result["warnings"] = warnings;
  return result;
}

void bind_generation(py::module_& m) {
  py::class_<generation::BaseStreamer>(m, "BaseStreamer");
  py::class_<PyTextStreamer, generation::BaseStreamer>(m, "TextStreamer")
      .def(py::init<const tokenizers::PreTrainedTokenizer&, bool, bool, py::object>(), py::arg("tokenizer"),
           py::arg("skip_prompt"), py::arg("skip_special_tokens"), py::arg("callback"),
           py::keep_alive<1, 2>())  // the streamer reads the tokenizer
      .def("put",
           [](PyTextStreamer& s, const py::handle& ids) {
             const Tensor t = tensor_from_python(ids, "value");
             const auto v = t.to(DType::Int64).to_vector<std::int64_t>();
             s.put(v);
           })
      .def("end", &PyTextStreamer::end);

  py::class_<ORTModelForCausalLM, ORTModel>(m, "ORTModelForCausalLM")
      .def_static(
          "from_pretrained",
          [](const std::string& model_id_or_path, const ModelOptions& options, bool use_cache,
             std::optional<bool> use_merged) {
            CausalLMOptions o;
            o.base = options;
            o.use_cache = use_cache;
            o.use_merged = use_merged;
            py::gil_scoped_release release;
            return ORTModelForCausalLM::from_pretrained(model_id_or_path, o);
          },
          py::arg("model_id_or_path"), py::arg("options"), py::arg("use_cache") = true,
          py::arg("use_merged") = py::none())
      .def_property_readonly("use_cache", &ORTModelForCausalLM::use_cache)
      .def_property_readonly("use_merged", &ORTModelForCausalLM::use_merged)
      .def_property_readonly("num_layers", &ORTModelForCausalLM::num_layers)
      .def_property_readonly("vocab_size", &ORTModelForCausalLM::vocab_size)
      .def_property_readonly(
          "generation_config",
          [](const ORTModelForCausalLM& self) {
            return json_to_python(generation::GenerationConfig::from_pretrained(self.model_dir()).to_json());
          })
      .def(
          "forward",
          [](const ORTModelForCausalLM& self, const py::handle& input_ids, const py::handle& attention_mask,
             const py::handle& position_ids, const py::handle& past_key_values) {
            const Tensor ids = tensor_from_python(input_ids, "input_ids");
            const Tensor mask =
                attention_mask.is_none() ? Tensor() : tensor_from_python(attention_mask, "attention_mask");
            const Tensor pos = position_ids.is_none() ? Tensor() : tensor_from_python(position_ids, "position_ids");
            const PastKeyValues past = past_from_python(past_key_values);
            CausalLMOutput out;
            {
              py::gil_scoped_release release;
              out = self.forward(ids, mask, pos, past);
            }
            return py::make_tuple(tensor_to_numpy(out.logits), past_to_python(out.past_key_values));
          },
          py::arg("input_ids"), py::arg("attention_mask") = py::none(), py::arg("position_ids") = py::none(),
          py::arg("past_key_values") = py::none())
      // generate(inputs, generation_config (dict or None: the model's), kwargs, streamer) -> dict of numpy arrays:
      // sequences, and with output_scores scores (list per step), sequences_scores / beam_indices for beams.
      .def(
          "generate",
          [](const ORTModelForCausalLM& self, const py::handle& inputs, const py::handle& config_dict,
             const py::handle& kwargs, const py::handle& streamer) {
            return generate_with(self, self.model_dir(), inputs, config_dict, kwargs, streamer);
          },
          py::arg("inputs"), py::arg("generation_config"), py::arg("kwargs"), py::arg("streamer"));

  m.def("generation_config_from_pretrained", [](const std::string& dir) {
    return json_to_python(generation::GenerationConfig::from_pretrained(dir).to_json());
  });
  m.def("generation_config_keys", &generation::generation_config_keys);
}

}  // namespace ortformers::python
