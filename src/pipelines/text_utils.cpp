#include "pipelines/text_utils.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>

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

std::string continuing_subword_prefix(const std::string& model_dir) {
  namespace fs = std::filesystem;
  fs::path p = fs::path(model_dir) / "tokenizer.json";
  if (fs::is_regular_file(model_dir)) p = model_dir;
  if (!fs::exists(p)) return {};
  const Json j = read_json_file(p);
  if (!j.contains("model") || !j.at("model").is_object()) return {};
  const Json& m = j.at("model");
  if (m.contains("continuing_subword_prefix") && m.at("continuing_subword_prefix").is_string()) {
    return m.at("continuing_subword_prefix").get<std::string>();
  }
  return {};
}

}  // namespace ortformers::pipelines::text_utils
