#include "ortformers/preprocessing/ctc_tokenizer.hpp"

#include <algorithm>

#include "ortformers/core/error.hpp"
#include "ortformers/core/json.hpp"

namespace ortformers::preprocessing {

namespace {
void replace_all(std::string& s, const std::string& from, const std::string& to) {
  std::size_t pos = 0;
  while ((pos = s.find(from, pos)) != std::string::npos) {
    s.replace(pos, from.size(), to);
    pos += to.size();
  }
}
std::string token_string(const Json& j, const char* key, const std::string& fallback) {
  if (!j.is_object() || !j.contains(key) || j.at(key).is_null()) return fallback;
  const Json& v = j.at(key);
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object() && v.contains("content") && v.at("content").is_string()) return v.at("content").get<std::string>();
  return fallback;
}
}  // namespace

std::string clean_up_tokenization(std::string t) {
  replace_all(t, " .", ".");
  replace_all(t, " ?", "?");
  replace_all(t, " !", "!");
  replace_all(t, " ,", ",");
  replace_all(t, " ' ", "'");
  replace_all(t, " n't", "n't");
  replace_all(t, " 'm", "'m");
  replace_all(t, " 's", "'s");
  replace_all(t, " 've", "'ve");
  replace_all(t, " 're", "'re");
  return t;
}

Wav2Vec2CTCTokenizer::Wav2Vec2CTCTokenizer(std::map<std::string, std::int64_t> vocab, std::string pad_token,
                                           std::string word_delimiter_token, std::string unk_token)
    : pad_token_(std::move(pad_token)),
      word_delimiter_token_(std::move(word_delimiter_token)),
      unk_token_(std::move(unk_token)) {
  if (vocab.empty()) throw InvalidArgument("Wav2Vec2CTCTokenizer: empty vocabulary");
  for (const auto& [tok, id] : vocab) id_to_token_[id] = tok;
}

Wav2Vec2CTCTokenizer Wav2Vec2CTCTokenizer::from_pretrained(const std::filesystem::path& dir) {
  const auto vocab_path = dir / "vocab.json";
  const Json v = read_json_file(vocab_path);
  if (!v.is_object()) throw FileFormatError(vocab_path.string() + ": expected an object token -> id");
  std::map<std::string, std::int64_t> vocab;
  // Multi-lingual vocab.json files nest one vocabulary per language; take the flat form only.
  for (const auto& [tok, id] : v.items()) {
    if (!id.is_number_integer())
      throw UnsupportedError(vocab_path.string() + ": token '" + tok +
                             "' does not map to an integer id (multi-lingual vocabularies are not supported)");
    vocab[tok] = id.get<std::int64_t>();
  }
  Json cfg = Json::object(), special = Json::object();
  if (std::filesystem::exists(dir / "tokenizer_config.json")) cfg = read_json_file(dir / "tokenizer_config.json");
  if (std::filesystem::exists(dir / "special_tokens_map.json"))
    special = read_json_file(dir / "special_tokens_map.json");
  auto pick = [&](const char* key, const std::string& fallback) {
    return token_string(special, key, token_string(cfg, key, fallback));
  };
  Wav2Vec2CTCTokenizer t(std::move(vocab), pick("pad_token", "<pad>"), pick("word_delimiter_token", "|"),
                         pick("unk_token", "<unk>"));
  t.bos_token = pick("bos_token", "<s>");
  t.eos_token = pick("eos_token", "</s>");
  if (cfg.contains("do_lower_case") && cfg["do_lower_case"].is_boolean()) t.do_lower_case = cfg["do_lower_case"];
  if (cfg.contains("clean_up_tokenization_spaces") && cfg["clean_up_tokenization_spaces"].is_boolean())
    t.clean_up_tokenization_spaces = cfg["clean_up_tokenization_spaces"];
  if (cfg.contains("replace_word_delimiter_char") && cfg["replace_word_delimiter_char"].is_string())
    t.replace_word_delimiter_char = cfg["replace_word_delimiter_char"];
  return t;
}

std::string Wav2Vec2CTCTokenizer::convert_id_to_token(std::int64_t id) const {
  auto it = id_to_token_.find(id);
  return it == id_to_token_.end() ? unk_token_ : it->second;
}

std::vector<std::string> Wav2Vec2CTCTokenizer::all_special_tokens() const {
  return {bos_token, eos_token, unk_token_, pad_token_};
}

CTCDecoded Wav2Vec2CTCTokenizer::decode(std::span<const std::int64_t> ids, bool skip_special_tokens,
                                        bool group_tokens) const {
  const auto specials = all_special_tokens();
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (auto id : ids) {
    std::string tok = convert_id_to_token(id);
    if (skip_special_tokens && std::find(specials.begin(), specials.end(), tok) != specials.end()) continue;
    tokens.push_back(std::move(tok));
  }
  CTCDecoded out;
  if (tokens.empty()) return out;
  // Group repeats (CTC): chars with their repetition counts.
  std::vector<std::string> chars;
  std::vector<std::int64_t> reps;
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    if (group_tokens && !chars.empty() && chars.back() == tokens[i]) {
      ++reps.back();
    } else {
      chars.push_back(tokens[i]);
      reps.push_back(1);
    }
  }
  std::int64_t end = 0;
  std::string text;
  for (std::size_t i = 0; i < chars.size(); ++i) {
    const std::int64_t start = end;
    end += reps[i];
    if (chars[i] == pad_token_) continue;  // the CTC blank
    std::string c = chars[i] == word_delimiter_token_ ? replace_word_delimiter_char : chars[i];
    text += c;
    out.char_offsets.push_back({std::move(c), start, end});
  }
  // Word offsets from character offsets (Wav2Vec2CTCTokenizer._get_word_offsets).
  bool last_space = true;
  std::string word;
  std::int64_t ws = 0, we = 0;
  for (const auto& co : out.char_offsets) {
    const bool space = co.char_ == replace_word_delimiter_char;
    if (space == last_space) {
      we = co.end_offset;
      word += co.char_;
    } else if (space) {
      out.word_offsets.push_back({word, ws, we});
    } else {
      ws = co.start_offset;
      we = co.end_offset;
      word = co.char_;
    }
    last_space = space;
  }
  if (!last_space) out.word_offsets.push_back({word, ws, we});
  // Python's str.strip() (ASCII whitespace suffices: tokens are the vocabulary's characters).
  const char* ws_chars = " \t\n\r\f\v";
  const auto b = text.find_first_not_of(ws_chars);
  text = b == std::string::npos ? std::string() : text.substr(b, text.find_last_not_of(ws_chars) - b + 1);
  if (do_lower_case)
    std::transform(text.begin(), text.end(), text.begin(), [](unsigned char ch) { return std::tolower(ch); });
  if (clean_up_tokenization_spaces) text = clean_up_tokenization(std::move(text));
  out.text = std::move(text);
  return out;
}

}  // namespace ortformers::preprocessing
