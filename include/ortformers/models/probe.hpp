#pragma once
// Opening "some graph of this folder" for task detection (`ortformers info`, `serve`, pipelines without a task):
// optimum's generative exports hold several .onnx files (encoder_model.onnx, decoder_model.onnx,
// decoder_with_past_model.onnx, decoder_model_merged.onnx), which the single-graph classes refuse to choose from.
#include <filesystem>
#include <string>

namespace ortformers::models {

// The file_name a single-graph probe should open in a local folder (or its onnx/ subfolder): "" when the folder
// has model.onnx or one .onnx file (the usual lookup applies), else the encoder (encoder_model.onnx) of an
// encoder-decoder export, else the first-step decoder (decoder_model_merged.onnx, then decoder_model.onnx) of a
// decoder-only one; "" when none of these is there (the usual "several ONNX files" error then names them).
std::string probe_file_name(const std::filesystem::path& dir);

}  // namespace ortformers::models
