#pragma once
// Native export (optimum.exporters.onnx.main_export in C++). Implemented by src/export/.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace ortformers::exporters {

struct ExportOptions {
  std::string task = "auto";            // "auto" = infer from config.json as optimum's TasksManager
  int opset = 17;                       // 14..17
  bool optimize = false;                // emit ORT fused contrib ops
  std::optional<std::string> quantize;  // a quantization_preset name: "int8" (portable default), "avx2", "avx512",
                                        // "avx512_vnni", "arm64" (export/quantize.hpp)
  bool progress = false;                // progress bar on a terminal
  // "auto": the sentence-transformers form (token_embeddings + sentence_embedding, no token_type_ids input)
  // for a folder with modules.json and task feature-extraction, as optimum's main_export infers it;
  // "transformers": always the transformers form (last_hidden_state); "sentence_transformers": require it.
  std::string library_name = "auto";
  bool copy_tokenizer_files = true;  // copy tokenizer / sentence-transformers files next to model.onnx
  // text-generation(-with-past) only: optimum's legacy=True layout, decoder_model.onnx (+ decoder_with_past_model.onnx
  // for -with-past), without position_ids inputs, instead of the one model.onnx of optimum >= 1.14.
  bool legacy = false;
};

struct ExportResult {
  std::filesystem::path out_dir;
  std::filesystem::path onnx_path;                // the first graph written (model.onnx, decoder_model.onnx)
  std::vector<std::filesystem::path> onnx_paths;  // every graph written, in order
  std::string model_type;
  std::string task;
  std::vector<std::string> input_names, output_names;
  std::uintmax_t onnx_bytes = 0;
  double seconds = 0;
  std::string library_name;  // "transformers" | "sentence_transformers"
  std::vector<std::string> copied_files;
};

ExportResult export_model(const std::filesystem::path& model_dir, const std::filesystem::path& out_dir,
                          const ExportOptions& options = {});
// Exports into a cache folder keyed by the checkpoint's content and options ($ORTFORMERS_CACHE, else
// ~/.cache/ortformers/exports) and reuses it the next time. Returns the folder.
std::filesystem::path export_to_cache(const std::filesystem::path& model_dir, const ExportOptions& options = {});

// model_type values the exporter knows (bert, roberta, camembert, xlm-roberta, distilbert, electra, albert, mpnet).
std::vector<std::string> supported_model_types();
// The task main_export would use for a folder: from config.json `architectures` (BertForSequenceClassification ->
// text-classification, ...), feature-extraction for base models and sentence-transformers folders.
std::string infer_task(const std::filesystem::path& model_dir);
// Maps optimum's task synonyms (sequence-classification, zero-shot-classification, default, ...) to the task
// names used here; InvalidArgument for an unknown task.
std::string normalize_task(const std::string& task);

}  // namespace ortformers::exporters
