// Writes the Llama-shaped benchmark checkpoint of issue 21 (bench/support/llama_checkpoint.hpp; not a test):
//   bench_llama_checkpoint OUT_DIR TOKENIZER_MODEL
// OUT_DIR/hf: the transformers folder (model.safetensors, config.json, tokenizer files) for `ortformers export`;
// OUT_DIR/gguf/model-{f32,q8_0,q4_0}.gguf: the same weights for llama.cpp. Prints one JSON line.
#include <iostream>

#include "ortformers/core/json.hpp"
#include "support/gguf_writer.hpp"
#include "support/llama_checkpoint.hpp"

int main(int argc, char** argv) {
  using namespace ortformers::bench;
  if (argc != 3) {
    std::cerr << "usage: bench_llama_checkpoint OUT_DIR TOKENIZER_MODEL\n";
    return 2;
  }
  const std::filesystem::path out = argv[1], spm = argv[2];
  const auto w = make_llama_bench_weights();
  write_llama_checkpoint(out / "hf", w, spm);
  std::filesystem::create_directories(out / "gguf");
  write_llama_gguf(out / "gguf" / "model-f32.gguf", w, spm, GgmlType::F32);
  write_llama_gguf(out / "gguf" / "model-q8_0.gguf", w, spm, GgmlType::Q8_0);
  write_llama_gguf(out / "gguf" / "model-q4_0.gguf", w, spm, GgmlType::Q4_0);
  std::cout << ortformers::Json{{"dir", out.string()}, {"parameters", w.parameters()}}.dump() << std::endl;
  return 0;
}
