#pragma once
// Shared helpers of the text task pipelines (private to src/pipelines): numerically careful softmax/sigmoid as
// numpy computes them, code-point string slicing (Python str semantics), label lookup with clear errors.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ortformers/config/pretrained_config.hpp"
#include "ortformers/core/json.hpp"
#include "ortformers/core/tensor.hpp"

namespace ortformers::pipelines::text_utils {

// exp(x - max) / sum, in double.
std::vector<double> softmax(std::span<const float> logits);
std::vector<double> sigmoid(std::span<const float> logits);

// Python's len(s) for a UTF-8 string (code points; invalid bytes count one each).
std::size_t codepoint_length(std::string_view utf8);
// Byte offset of every code point boundary: result[i] = byte index of code point i, result[n] = utf8.size().
std::vector<std::size_t> codepoint_byte_offsets(std::string_view utf8);
// Python's s[start:end] on code point indices (clamped as Python does for in-range non-negative values).
std::string codepoint_slice(std::string_view utf8, std::size_t start, std::size_t end);
// The code points of a UTF-8 string (invalid bytes mapped to U+FFFD).
std::vector<char32_t> decode_utf8(std::string_view utf8);

// id2label[id], or FileFormatError naming config.json when the model emits a label id the config lacks.
const std::string& label_for(const config::PretrainedConfig& config, std::int64_t id);
// Checks that the model's label dimension matches config.json's labels (InvalidArgument/FileFormatError otherwise).
void check_num_labels(const config::PretrainedConfig& config, std::int64_t model_labels, const std::string& task);

// Logits of row `row` of a [B, N] float tensor (any float dtype converted).
std::vector<float> tensor_row(const Tensor& t, std::int64_t row);

// Throws InvalidArgument when text is empty (transformers gives a degenerate result or an error there; we refuse).
void require_non_empty(const std::string& text, const std::string& what, const std::string& task);

// Reads a model folder's tokenizer.json model.continuing_subword_prefix ("" when absent or no tokenizer.json).
std::string continuing_subword_prefix(const std::string& model_dir);

}  // namespace ortformers::pipelines::text_utils
