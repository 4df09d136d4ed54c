#pragma once
// Benchmark support: a MiniLM-L6-shaped BERT checkpoint (6 layers, hidden 384, 12 heads, intermediate 1536, vocab
// 30522, random weights) written as a sentence-transformers folder: model.safetensors, config.json, vocab.txt,
// tokenizer_config.json, modules.json, 1_Pooling (mean) + Normalize.
#include <filesystem>

namespace ortformers::bench {

// Writes the folder `dir` and returns it. vocab_txt: a real vocab.txt to copy (e.g. bert-base-uncased's); empty = a
// generated one ("tok104", ...).
std::filesystem::path write_minilm_checkpoint(const std::filesystem::path& dir,
                                              const std::filesystem::path& vocab_txt = {});

}  // namespace ortformers::bench
