#pragma once
// Internal: helpers shared by the generative model classes (ORTModelForCausalLM and the encoder-decoder core).
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>

#include "ortformers/core/tensor.hpp"

namespace ortformers::models {

// `name` in base or base/onnx (optimum and the hub layouts put the graphs in either).
std::optional<std::filesystem::path> find_named(const std::filesystem::path& base, const std::string& name);

// Token ids as int64 [rows, new_len] with every id in [0, vocab) (vocab 0 = unchecked); InvalidArgument naming
// `what` and `name` otherwise (rank, dtype, empty, out of range).
Tensor check_token_ids(const Tensor& ids, std::int64_t vocab, const std::string& what,
                       const std::string& name = "input_ids");

// A [rows, vocab] float32 copy of the last position of logits [rows, seq, vocab] (any float dtype).
Tensor last_position_logits(const Tensor& logits);

// Rows `rows` of t along dimension 0 (a copy; rows may repeat). t must have rank >= 1.
Tensor gather_rows(const Tensor& t, std::span<const std::int64_t> rows);

}  // namespace ortformers::models
