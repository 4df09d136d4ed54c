#include "pipelines/text_utils.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "ortformers/tokenizers/decoders.hpp"

#include "ortformers/core/error.hpp"

namespace ortformers::pipelines::text_utils {

std::vector<double> softmax(std::span<const float> logits) {
  std::vector<double> out(logits.size());
  if (logits.empty()) return out;
  const double mx = *std::max_element(logits.begin(), logits.end());
  double sum = 0.0;
  for (std::size_t i = 0; i < logits.size(); ++i) {
    out[i] = std::exp(static_cast<double>(logits[i]) - mx);
    sum += out[i];
  }
  for (auto& v : out) v /= sum;
  return out;
}

std::vector<double> sigmoid(std::span<const float> logits) {
  std::vector<double> out(logits.size());
  for (std::size_t i = 0; i < logits.size(); ++i) out[i] = 1.0 / (1.0 + std::exp(-static_cast<double>(logits[i])));
  return out;
}

namespace {
// Length in bytes of the UTF-8 sequence starting with lead byte c (1 for invalid bytes).
std::size_t utf8_len(unsigned char c) {
  if (c < 0x80) return 1;
  if ((c >> 5) == 0x6) return 2;
  if ((c >> 4) == 0xE) return 3;
  if ((c >> 3) == 0x1E) return 4;
  return 1;
}
}  // namespace

std::vector<std::size_t> codepoint_byte_offsets(std::string_view s) {
  std::vector<std::size_t> out;
  out.reserve(s.size() + 1);
  std::size_t i = 0;
  while (i < s.size()) {
    out.push_back(i);
    std::size_t n = utf8_len(static_cast<unsigned char>(s[i]));
    if (i + n > s.size()) n = 1;
    for (std::size_t k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) {
        n = 1;
        break;
      }
    }
    i += n;
  }
  out.push_back(s.size());
  return out;
}

std::size_t codepoint_length(std::string_view s) {
  return codepoint_byte_offsets(s).size() - 1;
}

std::string codepoint_slice(std::string_view s, std::size_t start, std::size_t end) {
  const auto offs = codepoint_byte_offsets(s);
  const std::size_t n = offs.size() - 1;
  start = std::min(start, n);
  end = std::min(end, n);
  if (end <= start) return {};
  return std::string(s.substr(offs[start], offs[end] - offs[start]));
}

std::vector<char32_t> decode_utf8(std::string_view s) {
  const auto offs = codepoint_byte_offsets(s);
  std::vector<char32_t> out;
  out.reserve(offs.size() - 1);
  for (std::size_t i = 0; i + 1 < offs.size(); ++i) {
    const auto* p = reinterpret_cast<const unsigned char*>(s.data()) + offs[i];
    const std::size_t n = offs[i + 1] - offs[i];
    char32_t cp = 0;
    if (n == 1) {
      cp = p[0] < 0x80 ? p[0] : 0xFFFD;
    } else if (n == 2) {
      cp = ((p[0] & 0x1F) << 6) | (p[1] & 0x3F);
    } else if (n == 3) {
      cp = ((p[0] & 0x0F) << 12) | ((p[1] & 0x3F) << 6) | (p[2] & 0x3F);
    } else {
      cp = ((p[0] & 0x07) << 18) | ((p[1] & 0x3F) << 12) | ((p[2] & 0x3F) << 6) | (p[3] & 0x3F);
    }
    out.push_back(cp);
  }
  return out;
}

const std::string& label_for(const config::PretrainedConfig& config, std::int64_t id) {
  const auto& m = config.id2label();
  auto it = m.find(id);
  if (it == m.end()) {
    throw FileFormatError(config.source() + ": field 'id2label' has no label for id " + std::to_string(id) +
                          " (the model predicts it; config.json lists " + std::to_string(m.size()) + " labels)");
  }
  return it->second;
}

void check_num_labels(const config::PretrainedConfig& config, std::int64_t model_labels, const std::string& task) {
  if (config.num_labels() != model_labels) {
    throw FileFormatError(config.source() + ": field 'id2label' lists " + std::to_string(config.num_labels()) +
                          " labels but the " + task + " model outputs " + std::to_string(model_labels) +
                          " scores per prediction; labels are missing from config.json");
  }
}

std::vector<float> tensor_row(const Tensor& t, std::int64_t row) {
  if (t.rank() != 2) throw RuntimeError("expected a [batch, n] tensor, got " + shape_to_string(t.shape()));
  const std::int64_t n = t.dim(1);
  std::vector<float> all = t.dtype() == DType::Float32 ? std::vector<float>() : t.to_float_vector();
  const float* base = t.dtype() == DType::Float32 ? t.data<float>() : all.data();
  return std::vector<float>(base + row * n, base + (row + 1) * n);
}

void require_non_empty(const std::string& text, const std::string& what, const std::string& task) {
  if (text.empty()) throw InvalidArgument(task + ": `" + what + "` cannot be empty");
}

std::string continuing_subword_prefix(const tokenizers::PreTrainedTokenizer& tokenizer) {
  return tokenizer.backend().model().type() == "WordPiece" ? "##" : "";
}

bool is_byte_level(const tokenizers::PreTrainedTokenizer& tokenizer) {
  if (tokenizer.backend().model().type() != "BPE") return false;
  return tokenizer.backend().encode("a", false).tokens != tokenizer.backend().encode(" a", false).tokens;
}

std::unique_ptr<tokenizers::PreTrainedTokenizer> load_tokenizer(const models::ORTModel& model,
                                                                const PipelineOptions& options) {
  const std::filesystem::path dir =
      options.tokenizer.empty() ? model.model_dir() : std::filesystem::path(options.tokenizer);
  return std::make_unique<tokenizers::PreTrainedTokenizer>(tokenizers::AutoTokenizer::from_pretrained(dir));
}

TensorMap model_inputs(const tokenizers::Encoding& encoding, const models::ORTModel& model) {
  const auto n = static_cast<std::int64_t>(encoding.ids.size());
  TensorMap m;
  m.emplace("input_ids", Tensor::from_vector(encoding.ids, {1, n}));
  const auto& session = model.session();
  if (session.has_input("attention_mask")) {
    m.emplace("attention_mask", Tensor::from_vector(encoding.attention_mask, {1, n}));
  }
  if (session.has_input("token_type_ids")) {
    std::vector<std::int64_t> types = encoding.type_ids;
    types.resize(encoding.ids.size(), 0);
    m.emplace("token_type_ids", Tensor::from_vector(std::move(types), {1, n}));
  }
  return m;
}

TensorMap model_inputs(const tokenizers::BatchEncoding& encoding, const models::ORTModel& model) {
  if (encoding.encodings.size() != 1) throw RuntimeError("expected the encoding of one input");
  return model_inputs(encoding.encodings.front(), model);
}

std::vector<std::int64_t> encode_ids(const tokenizers::PreTrainedTokenizer& tokenizer, const std::string& text) {
  return tokenizer.backend().encode(text, /*add_special_tokens=*/false).ids;
}

tokenizers::Encoding encode_pair_with_special_tokens(const tokenizers::PreTrainedTokenizer& tokenizer,
                                                     const std::string& a, const std::string& b) {
  return tokenizer.backend().encode_pair(a, b, /*add_special_tokens=*/true);
}

std::optional<std::int64_t> token_to_id(const tokenizers::PreTrainedTokenizer& tokenizer, const std::string& token) {
  return tokenizer.backend().token_to_id(token);
}

std::string decode_tokens(const tokenizers::PreTrainedTokenizer& tokenizer, const std::vector<std::string>& tokens) {
  const auto* decoder = tokenizer.backend().decoder();
  std::string out;
  for (const auto& piece : decoder ? decoder->decode_chain(tokens) : tokens) out += piece;
  return out;
}

}  // namespace ortformers::pipelines::text_utils
