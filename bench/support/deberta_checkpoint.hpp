#pragma once
// Benchmark support: a DeBERTa-v3-small-shaped checkpoint (6 layers, hidden 768, 12 heads, intermediate 3072, vocab
// 128100, relative attention with 256 position buckets, p2c + c2p, shared attention keys; random weights) written
// as model.safetensors + config.json (DebertaV2Model).
#include <filesystem>

namespace ortformers::bench {

std::filesystem::path write_deberta_v3_small_checkpoint(const std::filesystem::path& dir);

}  // namespace ortformers::bench
