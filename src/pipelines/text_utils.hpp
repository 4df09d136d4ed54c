#pragma once
// Shared helpers of the text task pipelines (private to src/pipelines): numerically careful softmax/sigmoid as
// numpy computes them, code-point string slicing (Python str semantics), label lookup with clear errors.
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ortformers/config/pretrained_config.hpp"
#include "ortformers/core/json.hpp"
#include "ortformers/core/tensor.hpp"
#include "ortformers/models/ort_model.hpp"
#include "ortformers/pipelines/pipeline.hpp"
#include "ortformers/tokenizers/pretrained_tokenizer.hpp"

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

// The tokenizer model's continuing_subword_prefix as transformers reads it: "##" for WordPiece, "" otherwise.
std::string continuing_subword_prefix(const tokenizers::PreTrainedTokenizer& tokenizer);
// True for byte-level BPE tokenizers (a leading space changes the tokens): SQuAD-style word tokenization then adds
// a prefix space, as transformers does for the RoBERTa family.
bool is_byte_level(const tokenizers::PreTrainedTokenizer& tokenizer);

// The pipeline's tokenizer: options.tokenizer, else the model folder.
std::unique_ptr<tokenizers::PreTrainedTokenizer> load_tokenizer(const models::ORTModel& model,
                                                                const PipelineOptions& options);
// [1, n] int64 tensors for the graph's inputs (input_ids, attention_mask, token_type_ids when the graph takes it).
TensorMap model_inputs(const tokenizers::Encoding& encoding, const models::ORTModel& model);
TensorMap model_inputs(const tokenizers::BatchEncoding& encoding, const models::ORTModel& model);
// Token ids of a text without special tokens.
std::vector<std::int64_t> encode_ids(const tokenizers::PreTrainedTokenizer& tokenizer, const std::string& text);
// The pair encoding with special tokens (to read the post-processor's layout).
tokenizers::Encoding encode_pair_with_special_tokens(const tokenizers::PreTrainedTokenizer& tokenizer,
                                                     const std::string& a, const std::string& b);
std::optional<std::int64_t> token_to_id(const tokenizers::PreTrainedTokenizer& tokenizer, const std::string& token);
// convert_tokens_to_string of a fast tokenizer: the decoder's chain joined (the tokens themselves joined when the
// tokenizer has no decoder).
std::string decode_tokens(const tokenizers::PreTrainedTokenizer& tokenizer, const std::vector<std::string>& tokens);

}  // namespace ortformers::pipelines::text_utils
