// ortformers export --model DIR [--task TASK] [--opset N] [--optimize] [--quantize int8] [--legacy] OUT_DIR
// Native ONNX export of a PyTorch checkpoint (safetensors / pytorch_model.bin), optimum's folder layout.
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>

#include "cli_util.hpp"
#include "commands.hpp"
#include "ortformers/export/export.hpp"
#include "ortformers/export/quantize.hpp"

namespace {

using namespace ortformers;

struct ExportArgs {
  cli::ModelArgs m;
  std::string out, task = "auto", quantize, library = "auto";
  int opset = 17;
  bool optimize = false, no_progress = false, quiet = false, legacy = false;
};

std::string human_bytes(std::uintmax_t b) {
  char buf[64];
  if (b >= (1u << 30))
    std::snprintf(buf, sizeof buf, "%.2f GiB", static_cast<double>(b) / (1u << 30));
  else if (b >= (1u << 20))
    std::snprintf(buf, sizeof buf, "%.2f MiB", static_cast<double>(b) / (1u << 20));
  else
    std::snprintf(buf, sizeof buf, "%.1f KiB", static_cast<double>(b) / 1024.0);
  return buf;
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

int export_command(const ExportArgs& a) {
  exporters::ExportOptions o;
  o.task = a.task;
  o.opset = a.opset;
  o.optimize = a.optimize;
  if (!a.quantize.empty()) o.quantize = a.quantize;
  o.library_name = a.library;
  o.legacy = a.legacy;
  o.progress = !a.no_progress && !a.quiet;
  const auto r = exporters::export_model(a.m.model, a.out, o);
  if (a.quiet) return 0;
  std::vector<std::string> graphs;
  for (const auto& p : r.onnx_paths) graphs.push_back(p.filename().string());
  std::cout << "exported " << a.m.model << " -> " << r.onnx_path.string() << "\n"
            << "  graphs:       " << join(graphs) << "\n"
            << "  architecture: " << r.model_type << "\n"
            << "  task:         " << r.task
            << (r.library_name == "sentence_transformers" ? " (sentence-transformers)" : "") << "\n"
            << "  inputs:       " << join(r.input_names) << "\n"
            << "  outputs:      " << join(r.output_names) << "\n"
            << "  opset:        " << a.opset
            << (a.optimize || !a.quantize.empty() ? ", optimized (com.microsoft fused ops)" : "")
            << (a.quantize.empty() ? "" : ", quantized " + a.quantize) << "\n"
            << "  size:         " << human_bytes(r.onnx_bytes) << "\n"
            << "  files:        " << join(r.copied_files) << "\n";
  char t[32];
  std::snprintf(t, sizeof t, "%.3f s", r.seconds);
  std::cout << "  time:         " << t << "\n";
  return 0;
}

void register_export(CLI::App& app) {
  auto a = std::make_shared<ExportArgs>();
  auto* cmd = app.add_subcommand("export", "Export a PyTorch checkpoint folder to ONNX natively (no Python)");
  cli::add_model_options(*cmd, a->m, cli::kModel);
  cmd->get_option("--model")->description("checkpoint folder (config.json + model.safetensors or pytorch_model.bin)");
  cmd->add_option("output", a->out, "output folder (model.onnx, config.json, tokenizer files)")->required();
  cmd->add_option(
      "--task", a->task,
      "auto (from config.json), feature-extraction, text-classification, token-classification, "
      "question-answering, fill-mask, multiple-choice, text-generation, text-generation-with-past, "
      "text2text-generation(-with-past) (t5, bart), automatic-speech-recognition(-with-past) (whisper: "
      "encoder_model.onnx + decoder files), image-to-text(-with-past) (vision-encoder-decoder, pix2struct), "
      "image-classification, ... (optimum's task names)");
  cmd->add_option("--opset", a->opset, "ONNX opset, 14 to 17")->check(CLI::Range(14, 17));
  cmd->add_flag("--optimize", a->optimize,
                "emit ONNX Runtime fused ops (Attention, Gelu/FastGelu); implied by --quantize");
  std::vector<std::string> schemes = exporters::quantization_preset_names();
  for (const auto& n : exporters::nbits_preset_names()) schemes.push_back(n);
  cmd->add_option("--quantize", a->quantize,
                  "dynamic int8 quantization: int8 (portable default, 7-bit u8s8), avx2 (u8u8), avx512, avx512_vnni, "
                  "arm64; or block-wise weights (MatMulNBits, block 32, int8 compute): int4 (symmetric), int4_asym, "
                  "int8_block (8-bit, symmetric: llama.cpp's Q8_0)")
      ->check(CLI::IsMember(schemes));
  cmd->add_option("--library-name", a->library, "auto, transformers or sentence_transformers");
  cmd->add_flag("--legacy", a->legacy,
                "text-generation: optimum's legacy files decoder_model.onnx (+ decoder_with_past_model.onnx), "
                "without position_ids, instead of model.onnx");
  cmd->add_flag("--no-progress", a->no_progress, "no progress bar");
  cmd->add_flag("--quiet", a->quiet, "no progress bar and no summary");
  ortformers::cli::command_actions()["export"] = [a] { return export_command(*a); };
}

}  // namespace

ORTFORMERS_REGISTER_COMMAND(register_export);
