#include "pipeline_inputs.hpp"

#include "ortformers/core/error.hpp"

namespace ortformers::pipelines {

std::string text_input(const Json& input, const std::string& task, const std::vector<std::string>& keys) {
  if (input.is_string()) return input.get<std::string>();
  if (input.is_object()) {
    for (const auto& k : keys) {
      if (input.contains(k)) {
        if (!input.at(k).is_string()) throw InvalidArgument(task + ": input field '" + k + "' must be a string");
        for (auto it = input.begin(); it != input.end(); ++it) {
          if (std::find(keys.begin(), keys.end(), it.key()) == keys.end()) {
            throw InvalidArgument(task + ": unknown input field '" + it.key() + "'");
          }
        }
        return input.at(k).get<std::string>();
      }
    }
    std::string list;
    for (const auto& k : keys) list += (list.empty() ? "" : ", ") + k;
    throw InvalidArgument(task + ": input object needs one of the fields " + list + ", got " + input.dump());
  }
  throw InvalidArgument(task + ": expected a string input, got " + input.dump());
}

tokenizers::PreTrainedTokenizer load_tokenizer_for(const models::ORTModel& model, const PipelineOptions& options) {
  if (!options.tokenizer.empty()) return tokenizers::AutoTokenizer::from_pretrained(options.tokenizer);
  return tokenizers::AutoTokenizer::from_pretrained(model.model_dir());
}

}  // namespace ortformers::pipelines

namespace ortformers::pipelines {

TensorMap select_graph_inputs(TensorMap inputs, const models::ORTModel& model) {
  const auto names = model.input_names();
  for (auto it = inputs.begin(); it != inputs.end();) {
    if (std::find(names.begin(), names.end(), it->first) == names.end())
      it = inputs.erase(it);
    else
      ++it;
  }
  return inputs;
}

namespace {
// Decodes one UTF-8 code point at s[i]; returns its length (1 for invalid bytes).
std::size_t utf8_decode(const std::string& s, std::size_t i, char32_t& cp) {
  const auto c = static_cast<unsigned char>(s[i]);
  std::size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
  if (i + len > s.size()) len = 1;
  if (len == 1) {
    cp = c;
    return 1;
  }
  cp = c & (0xff >> (len + 1));
  for (std::size_t k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3f);
  return len;
}
bool is_python_space(char32_t c) {
  return (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x20) || c == 0x85 || c == 0xa0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 || c == 0x202f || c == 0x205f || c == 0x3000;
}
}  // namespace

std::string python_strip(const std::string& s) {
  std::size_t begin = 0;
  while (begin < s.size()) {
    char32_t cp;
    const std::size_t n = utf8_decode(s, begin, cp);
    if (!is_python_space(cp)) break;
    begin += n;
  }
  std::size_t end = begin;
  for (std::size_t i = begin; i < s.size();) {
    char32_t cp;
    const std::size_t n = utf8_decode(s, i, cp);
    i += n;
    if (!is_python_space(cp)) end = i;
  }
  return s.substr(begin, end - begin);
}

}  // namespace ortformers::pipelines
