#pragma once
// One bind_* function per binding file; module.cpp calls them in dependency order.
#include <pybind11/pybind11.h>

#include <filesystem>

#include "ortformers/models/decoder_step.hpp"
#include "ortformers/models/encoder_decoder.hpp"

namespace ortformers::python {

void bind_models(pybind11::module_& m);
void bind_tokenizers(pybind11::module_& m);
void bind_pipelines(pybind11::module_& m);
void bind_generation(pybind11::module_& m);
void bind_whisper(pybind11::module_& m);
void bind_seq2seq(pybind11::module_& m);
void bind_vision2seq(pybind11::module_& m);

// transformers' generate() over any generative model (generation.cpp): inputs (a mapping of arrays), the generation
// config (a dict, or None: model_dir's), kwargs, a streamer (None, a TextStreamer or any object with put / end).
// Returns {"sequences", "scores", "sequences_scores", "beam_indices", "warnings"} with the GIL released while it runs.
pybind11::dict generate_with(const models::GenerativeModel& model, const std::filesystem::path& model_dir,
                             const pybind11::handle& inputs, const pybind11::handle& config_dict,
                             const pybind11::handle& kwargs, const pybind11::handle& streamer);

// An encoder-decoder cache as optimum's past_key_values (seq2seq.cpp): one tuple per layer, (self key, self value,
// cross key, cross value), or (self key, self value) for decoders that do not cache cross-attention.
pybind11::list cache_to_python(const models::EncoderDecoderCache& past);
models::EncoderDecoderCache cache_from_python(const pybind11::handle& value);

}  // namespace ortformers::python
