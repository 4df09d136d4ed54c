// Whisper: ORTModelForSpeechSeq2Seq (from_pretrained, forward without past, generate as 4.31's
// WhisperForConditionalGeneration.generate with language / task / return_timestamps) and WhisperFeatureExtractor.
#include <pybind11/numpy.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include "bindings.hpp"
#include "convert.hpp"
#include "ortformers/generation/whisper.hpp"
#include "ortformers/models/speech_seq2seq.hpp"
#include "ortformers/preprocessing/whisper_feature_extractor.hpp"

namespace ortformers::python {

using namespace ortformers::models;

void bind_whisper(py::module_& m) {
  py::class_<ORTModelForSpeechSeq2Seq, ORTModel>(m, "ORTModelForSpeechSeq2Seq")
      .def_static(
          "from_pretrained",
          [](const std::string& model_id_or_path, const ModelOptions& options, bool use_cache,
             std::optional<bool> use_merged) {
            SpeechSeq2SeqOptions o;
            o.base = options;
            o.use_cache = use_cache;
            o.use_merged = use_merged;
            py::gil_scoped_release release;
            return ORTModelForSpeechSeq2Seq::from_pretrained(model_id_or_path, o);
          },
          py::arg("model_id_or_path"), py::arg("options"), py::arg("use_cache") = true,
          py::arg("use_merged") = py::none())
      .def_property_readonly("use_cache", &ORTModelForSpeechSeq2Seq::use_cache)
      .def_property_readonly("use_merged", &ORTModelForSpeechSeq2Seq::use_merged)
      .def_property_readonly("vocab_size", &ORTModelForSpeechSeq2Seq::vocab_size)
      .def_property_readonly(
          "generation_config",
          [](const ORTModelForSpeechSeq2Seq& self) {
            return json_to_python(generation::GenerationConfig::from_pretrained(self.model_dir()).to_json());
          })
      // forward(input_features, decoder_input_ids) -> (logits, encoder_last_hidden_state), no past.
      .def(
          "forward",
          [](const ORTModelForSpeechSeq2Seq& self, const py::handle& input_features,
             const py::handle& decoder_input_ids) {
            const Tensor x = tensor_from_python(input_features, "input_features");
            const Tensor ids = tensor_from_python(decoder_input_ids, "decoder_input_ids");
            Seq2SeqLMOutput out;
            {
              py::gil_scoped_release release;
              out = self.forward(x, ids.to(DType::Int64));
            }
            return py::make_tuple(tensor_to_numpy(out.logits), tensor_to_numpy(out.encoder_last_hidden_state));
          },
          py::arg("input_features"), py::arg("decoder_input_ids"))
      // generate(input_features, kwargs) -> dict: sequences, scores / sequences_scores / beam_indices with
      // output_scores, warnings. kwargs may hold language, task, return_timestamps and every generate kwarg.
      .def(
          "generate",
          [](const ORTModelForSpeechSeq2Seq& self, const py::handle& input_features, const py::handle& kwargs) {
            const Tensor x = tensor_from_python(input_features, "input_features");
            const Json kw = json_from_python(kwargs);
            std::vector<std::string> warnings;
            generation::GenerateOptions go;
            go.warnings = &warnings;
            generation::GenerateOutput out;
            {
              py::gil_scoped_release release;
              out = generation::generate_whisper(self, {{"input_features", x}}, {}, kw, go);
            }
            py::dict result;
            result["sequences"] = tensor_to_numpy(out.sequences);
            if (!out.scores.empty()) {
              py::list scores;
              for (const auto& s : out.scores) scores.append(tensor_to_numpy(s));
              result["scores"] = py::tuple(scores);
              if (out.sequences_scores.defined()) result["sequences_scores"] = tensor_to_numpy(out.sequences_scores);
              if (out.beam_indices.defined()) result["beam_indices"] = tensor_to_numpy(out.beam_indices);
            }
            result["warnings"] = warnings;
            return result;
          },
          py::arg("input_features"), py::arg("kwargs"));

  py::class_<preprocessing::WhisperFeatureExtractor>(m, "WhisperFeatureExtractor")
      .def_static("from_pretrained", &preprocessing::WhisperFeatureExtractor::from_pretrained, py::arg("dir_or_file"))
      .def_property_readonly("sampling_rate", &preprocessing::WhisperFeatureExtractor::sampling_rate)
      // __call__(list of 1-D float arrays, sampling_rate or None) -> input_features float32 [batch, 80, frames]
      .def(
          "__call__",
          [](const preprocessing::WhisperFeatureExtractor& self, const std::vector<py::handle>& waveforms,
             std::optional<int> sampling_rate) {
            std::vector<std::vector<float>> waves;
            for (std::size_t i = 0; i < waveforms.size(); ++i) {
              const Tensor t = tensor_from_python(waveforms[i], "raw_speech[" + std::to_string(i) + "]");
              if (t.rank() != 1) throw InvalidArgument("raw_speech: each waveform must be 1-D");
              waves.push_back(t.to_float_vector());
            }
            preprocessing::WhisperFeatureOptions o;
            o.sampling_rate = sampling_rate;
            TensorMap out;
            {
              py::gil_scoped_release release;
              out = self(waves, o);
            }
            return tensor_to_numpy(out.at("input_features"));
          },
          py::arg("raw_speech"), py::arg("sampling_rate") = py::none());
}

}  // namespace ortformers::python
