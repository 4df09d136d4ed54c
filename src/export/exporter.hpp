#pragma once
// Internal entry point of the exporter: builds the ModelProto in memory (used by export_model, tests, bench).
#include <onnx/onnx_pb.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "export/graph/graph_builder.hpp"
#include "ortformers/export/checkpoint.hpp"
#include "ortformers/export/export.hpp"

namespace ortformers::exporters {

struct BuiltModel {
  onnx::ModelProto model;
  // Initializers not yet in `model` (empty unless build_model was asked not to materialise); they point into
  // `weights`, which the struct keeps alive.
  DeferredInitializers deferred;
  std::shared_ptr<const StateDict> weights;
  std::string model_type, task, library_name;
  std::vector<std::string> input_names, output_names;
};

// Which graph of a text-generation or encoder-decoder export to build (other tasks have one graph: Model).
//   Model            model.onnx: position_ids input; past inputs + present outputs for text-generation-with-past
//   Encoder          encoder_model.onnx of an encoder-decoder export (T5, BART, Whisper)
//   Decoder          decoder_model.onnx: no past inputs (presents out for -with-past); text-generation: legacy
//                    layout, no position_ids
//   DecoderWithPast  decoder_with_past_model.onnx: past inputs, presents out (text-generation: no position_ids)
enum class DecoderFile { Model, Decoder, DecoderWithPast, Encoder };
const char* decoder_file_name(DecoderFile f) noexcept;

// Reads config + checkpoint from `model_dir` and builds the graph (checked, shapes inferred; quantised when
// options.quantize is set). `progress(fraction, message)` is called along the way when given. With
// `materialize` false, large initializers stay deferred (written by save_model straight from the checkpoint).
BuiltModel build_model(const std::filesystem::path& model_dir, const ExportOptions& options,
                       const std::function<void(double, const std::string&)>& progress = {}, bool materialize = true,
                       DecoderFile decoder_file = DecoderFile::Model);

// optimum's decoder_model_merged.onnx from the materialised decoder without past and the decoder with past: an If on
// the boolean input use_cache_branch [1] (then: with past), shared weights stored once. The outputs of the decoder
// with past must be those of the one without, in the same order, or a subset of them (encoder-decoder models: no
// cross-attention presents): the missing ones are returned empty (batch 0) by the cache branch, as optimum's.
onnx::ModelProto merge_decoders(const onnx::ModelProto& no_past, const onnx::ModelProto& with_past);

}  // namespace ortformers::exporters
