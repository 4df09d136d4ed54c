#pragma once
// Writes named tensors as a .safetensors file (header JSON with dtype/shape/data_offsets, 8-byte aligned, then the
// raw little-endian data) — the format load_safetensors reads. Used to save generated checkpoints (benchmarks,
// tests) and by tools that write weights.
#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "ortformers/core/tensor.hpp"

namespace ortformers::exporters {

// Tensors are written in the given order. InvalidArgument for a duplicate name or an undefined tensor;
// RuntimeError when the file cannot be written.
void save_safetensors(const std::filesystem::path& file, const std::vector<std::pair<std::string, Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata = {});

}  // namespace ortformers::exporters
