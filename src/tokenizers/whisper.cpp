// WhisperTokenizer decoding (transformers 4.31): timestamps, offsets, the language table and the ASR pipeline's
// _decode_asr / _find_longest_common_sequence.
#include "ortformers/tokenizers/whisper.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>

#include "ortformers/core/error.hpp"

namespace ortformers::tokenizers {

const std::vector<std::pair<std::string, std::string>>& whisper_languages() {
  static const std::vector<std::pair<std::string, std::string>> v = {
      {"en", "english"},        {"zh", "chinese"},     {"de", "german"},        {"es", "spanish"},
      {"ru", "russian"},        {"ko", "korean"},      {"fr", "french"},        {"ja", "japanese"},
      {"pt", "portuguese"},     {"tr", "turkish"},     {"pl", "polish"},        {"ca", "catalan"},
      {"nl", "dutch"},          {"ar", "arabic"},      {"sv", "swedish"},       {"it", "italian"},
      {"id", "indonesian"},     {"hi", "hindi"},       {"fi", "finnish"},       {"vi", "vietnamese"},
      {"he", "hebrew"},         {"uk", "ukrainian"},   {"el", "greek"},         {"ms", "malay"},
      {"cs", "czech"},          {"ro", "romanian"},    {"da", "danish"},        {"hu", "hungarian"},
      {"ta", "tamil"},          {"no", "norwegian"},   {"th", "thai"},          {"ur", "urdu"},
      {"hr", "croatian"},       {"bg", "bulgarian"},   {"lt", "lithuanian"},    {"la", "latin"},
      {"mi", "maori"},          {"ml", "malayalam"},   {"cy", "welsh"},         {"sk", "slovak"},
      {"te", "telugu"},         {"fa", "persian"},     {"lv", "latvian"},       {"bn", "bengali"},
      {"sr", "serbian"},        {"az", "azerbaijani"}, {"sl", "slovenian"},     {"kn", "kannada"},
      {"et", "estonian"},       {"mk", "macedonian"},  {"br", "breton"},        {"eu", "basque"},
      {"is", "icelandic"},      {"hy", "armenian"},    {"ne", "nepali"},        {"mn", "mongolian"},
      {"bs", "bosnian"},        {"kk", "kazakh"},      {"sq", "albanian"},      {"sw", "swahili"},
      {"gl", "galician"},       {"mr", "marathi"},     {"pa", "punjabi"},       {"si", "sinhala"},
      {"km", "khmer"},          {"sn", "shona"},       {"yo", "yoruba"},        {"so", "somali"},
      {"af", "afrikaans"},      {"oc", "occitan"},     {"ka", "georgian"},      {"be", "belarusian"},
      {"tg", "tajik"},          {"sd", "sindhi"},      {"gu", "gujarati"},      {"am", "amharic"},
      {"yi", "yiddish"},        {"lo", "lao"},         {"uz", "uzbek"},         {"fo", "faroese"},
      {"ht", "haitian creole"}, {"ps", "pashto"},      {"tk", "turkmen"},       {"nn", "nynorsk"},
      {"mt", "maltese"},        {"sa", "sanskrit"},    {"lb", "luxembourgish"}, {"my", "myanmar"},
      {"bo", "tibetan"},        {"tl", "tagalog"},     {"mg", "malagasy"},      {"as", "assamese"},
      {"tt", "tatar"},          {"haw", "hawaiian"},   {"ln", "lingala"},       {"ha", "hausa"},
      {"ba", "bashkir"},        {"jw", "javanese"},    {"su", "sundanese"},
  };
  return v;
}

const std::vector<std::pair<std::string, std::string>>& whisper_to_language_code() {
  static const std::vector<std::pair<std::string, std::string>> v = [] {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& [code, name] : whisper_languages()) out.emplace_back(name, code);
    for (const auto& [alias, code] : std::vector<std::pair<std::string, std::string>>{{"burmese", "my"},
                                                                                      {"valencian", "ca"},
                                                                                      {"flemish", "nl"},
                                                                                      {"haitian", "ht"},
                                                                                      {"letzeburgesch", "lb"},
                                                                                      {"pushto", "ps"},
                                                                                      {"panjabi", "pa"},
                                                                                      {"moldavian", "ro"},
                                                                                      {"moldovan", "ro"},
                                                                                      {"sinhalese", "si"},
                                                                                      {"castilian", "es"}})
      out.emplace_back(alias, code);
    return out;
  }();
  return v;
}

std::optional<std::string> whisper_language_name(const std::string& code) {
  for (const auto& [c, name] : whisper_languages())
    if (c == code) return name;
  return std::nullopt;
}

std::int64_t whisper_timestamp_begin(const PreTrainedTokenizer& tokenizer) {
  const auto id = tokenizer.convert_tokens_to_ids("<|notimestamps|>");
  if (!id) throw InvalidArgument("WhisperTokenizer: the vocabulary has no <|notimestamps|> token");
  return *id + 1;
}

namespace {

std::string format_time(double seconds) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "<|%.2f|>", seconds);
  return buf;
}

// _strip_prompt: with skip_special_tokens, tokens from <|startofprev|> up to <|startoftranscript|> go.
std::vector<std::int64_t> strip_prompt(const PreTrainedTokenizer& tok, std::span<const std::int64_t> ids) {
  std::vector<std::int64_t> v(ids.begin(), ids.end());
  const auto prev = tok.convert_tokens_to_ids("<|startofprev|>");
  const auto sot = tok.convert_tokens_to_ids("<|startoftranscript|>");
  if (!prev || !sot || v.empty() || v.front() != *prev) return v;
  auto it = std::find(v.begin(), v.end(), *sot);
  if (it == v.end()) return {};
  return std::vector<std::int64_t>(it, v.end());
}

}  // namespace

std::string whisper_decode(const PreTrainedTokenizer& tok, std::span<const std::int64_t> ids,
                           const WhisperDecodeOptions& o) {
  const auto kept = o.skip_special_tokens ? strip_prompt(tok, ids) : std::vector<std::int64_t>(ids.begin(), ids.end());
  if (!o.decode_with_timestamps) return tok.decode(kept, o.skip_special_tokens, o.clean_up_tokenization_spaces);
  // _decode_with_timestamps: text between timestamp tokens, the timestamps as <|t.tt|>.
  const auto begin = whisper_timestamp_begin(tok);
  std::string out;
  std::vector<std::int64_t> run;
  auto flush = [&] {
    out += tok.decode(run, o.skip_special_tokens, o.clean_up_tokenization_spaces);
    run.clear();
  };
  for (auto t : kept) {
    if (t >= begin) {
      flush();
      out += format_time(static_cast<double>(t - begin) * o.time_precision);
    } else {
      run.push_back(t);
    }
  }
  flush();
  return out;
}

std::vector<WhisperOffset> whisper_compute_offsets(const PreTrainedTokenizer& tok, std::span<const std::int64_t> ids,
                                                   double time_precision) {
  const auto begin = whisper_timestamp_begin(tok);
  const auto n = static_cast<std::int64_t>(ids.size());
  std::vector<std::int64_t> ts_positions, consecutive;
  for (std::int64_t i = 0; i < n; ++i)
    if (ids[i] >= begin) ts_positions.push_back(i);
  for (std::int64_t i = 0; i + 1 < n; ++i)
    if (ids[i] >= begin && ids[i + 1] >= begin) consecutive.push_back(i + 1);
  std::vector<WhisperOffset> offsets;
  if (consecutive.empty() && ts_positions.size() <= 1) return offsets;
  if (std::find(consecutive.begin(), consecutive.end(), ts_positions.back() + 1) == consecutive.end())
    consecutive.push_back(ts_positions.back() + 1);
  std::int64_t last = ts_positions.front();
  for (auto current : consecutive) {
    if (current - last > 1) {
      const auto sliced = ids.subspan(static_cast<std::size_t>(last), static_cast<std::size_t>(current - last));
      offsets.push_back({tok.decode(sliced, false), static_cast<double>(sliced.front() - begin) * time_precision,
                         static_cast<double>(sliced.back() - begin) * time_precision});
    }
    last = current;
  }
  return offsets;
}

std::vector<std::int64_t> find_longest_common_sequence(const std::vector<std::vector<std::int64_t>>& sequences) {
  if (sequences.empty()) return {};
  std::vector<std::int64_t> left = sequences[0], total;
  for (std::size_t s = 1; s < sequences.size(); ++s) {
    const auto& right = sequences[s];
    const auto L = static_cast<std::int64_t>(left.size()), R = static_cast<std::int64_t>(right.size());
    double best = 0.0;
    std::int64_t ls = L, le = L, rs = 0, re = 0;
    for (std::int64_t i = 1; i < L + R; ++i) {
      const double eps = static_cast<double>(i) / 10000.0;
      const std::int64_t left_start = std::max<std::int64_t>(0, L - i), left_stop = std::min(L, L + R - i);
      const std::int64_t right_start = std::max<std::int64_t>(0, i - L), right_stop = std::min(R, i);
      if (left_stop - left_start != right_stop - right_start)
        throw RuntimeError(
            "There is a bug within whisper `decode_asr` function, please report it. Dropping to prevent bad "
            "inference.");
      std::int64_t matches = 0;
      for (std::int64_t k = 0; k < left_stop - left_start; ++k)
        if (left[left_start + k] == right[right_start + k]) ++matches;
      const double matching = static_cast<double>(matches) / static_cast<double>(i) + eps;
      if (matches > 1 && matching > best) {
        best = matching;
        ls = left_start;
        le = left_stop;
        rs = right_start;
        re = right_stop;
      }
    }
    const std::int64_t left_mid = (le + ls) / 2, right_mid = (re + rs) / 2;
    total.insert(total.end(), left.begin(), left.begin() + left_mid);
    left.assign(right.begin() + right_mid, right.end());
  }
  total.insert(total.end(), left.begin(), left.end());
  return total;
}

AsrDecoded decode_asr(const PreTrainedTokenizer& tok, const std::vector<AsrModelOutput>& model_outputs,
                      bool return_timestamps, bool /*return_language*/, double time_precision,
                      std::vector<std::string>* warnings) {
  std::optional<std::string> last_language;
  auto new_chunk = [&] {
    AsrChunk c;
    c.language = last_language;
    return c;
  };
  std::vector<AsrChunk> chunks;
  AsrChunk chunk = new_chunk();
  double time_offset = 0.0;
  const std::int64_t timestamp_begin = whisper_timestamp_begin(tok);
  std::vector<std::vector<std::int64_t>> previous_tokens;
  bool skip = false;
  double right_stride_start = 0.0;
  const auto special = tok.all_special_ids();
  const std::set<std::int64_t> all_special(special.begin(), special.end());
  auto decode = [&](const std::vector<std::int64_t>& ids) { return tok.decode(ids, false); };
  auto py_round2 = [](double t) { return std::nearbyint(t * 100.0) / 100.0; };
  for (const auto& output : model_outputs) {
    const auto& token_ids = output.tokens;
    std::optional<std::int64_t> last_timestamp;
    double first_timestamp = static_cast<double>(timestamp_begin);
    double chunk_len = 0, stride_left = 0, stride_right = 0;
    if (output.stride) {
      chunk_len = (*output.stride)[0];
      stride_left = (*output.stride)[1];
      stride_right = (*output.stride)[2];
      time_offset -= stride_left;
      right_stride_start = chunk_len - stride_right;
      if (stride_left != 0) first_timestamp = stride_left / time_precision + static_cast<double>(timestamp_begin);
      if (stride_right != 0) {
        for (auto it = token_ids.rbegin(); it != token_ids.rend(); ++it) {
          const auto token = *it;
          if (token >= timestamp_begin) {
            if (last_timestamp && static_cast<double>(token - timestamp_begin) * time_precision < right_stride_start)
              break;
            last_timestamp = token;
          }
        }
      }
    }
    std::vector<std::int64_t> current_tokens;
    for (const auto token : token_ids) {
      if (all_special.count(token)) {
        std::string text = decode({token});
        text = text.size() >= 4 ? text.substr(2, text.size() - 4) : std::string();
        const auto language = whisper_language_name(text);
        if (language) {
          if (last_language && *language != *last_language && !return_timestamps) {
            previous_tokens.push_back(current_tokens);
            chunk.text = decode(find_longest_common_sequence(previous_tokens));
            chunks.push_back(chunk);
            previous_tokens.clear();
            current_tokens.clear();
            chunk = new_chunk();
          }
          chunk.language = language;
          last_language = language;
        }
      } else if (token >= timestamp_begin) {
        const double time = py_round2(static_cast<double>(token - timestamp_begin) * time_precision + time_offset);
        // `if last_timestamp and token >= last_timestamp` (a timestamp id is never 0, so truthiness is presence).
        if (last_timestamp && token >= *last_timestamp) {
          skip = true;
        } else if (skip || (!previous_tokens.empty() && static_cast<double>(token) < first_timestamp)) {
          skip = false;
        } else if (!chunk.start) {
          chunk.start = time;
        } else if (time == *chunk.start) {
          // A duplicated timestamp: taken as a start again.
        } else {
          chunk.end = time;
          previous_tokens.push_back(current_tokens);
          chunk.text = decode(find_longest_common_sequence(previous_tokens));
          chunks.push_back(chunk);
          previous_tokens.clear();
          current_tokens.clear();
          chunk = new_chunk();
        }
      } else {
        current_tokens.push_back(token);
      }
    }
    if (output.stride) time_offset += chunk_len - stride_right;
    if (!current_tokens.empty()) {
      previous_tokens.push_back(current_tokens);
    } else if (std::none_of(previous_tokens.begin(), previous_tokens.end(), [](const auto& p) { return !p.empty(); })) {
      chunk = new_chunk();
      previous_tokens.clear();
    }
  }
  if (!previous_tokens.empty()) {
    if (return_timestamps && warnings)
      warnings->push_back(
          "There was an error while processing timestamps, we haven't found a timestamp as last token. Was "
          "WhisperTimeStampLogitsProcessor used?");
    chunk.text = decode(find_longest_common_sequence(previous_tokens));
    chunks.push_back(chunk);
  }
  AsrDecoded out;
  for (const auto& c : chunks) out.text += c.text;
  out.chunks = std::move(chunks);
  return out;
}

}  // namespace ortformers::tokenizers
