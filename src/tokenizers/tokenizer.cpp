#include "ortformers/tokenizers/tokenizer.hpp"

#include <algorithm>
#include <atomic>
#include <exception>
#include <set>
#include <thread>

#include "ortformers/core/error.hpp"
#include "tokenizers/json_util.hpp"
#include "tokenizers/unicode.hpp"

namespace ortformers::tokenizers {

namespace u = unicode;

namespace json_util {
std::string base64_decode(const std::string& in) {
  static const auto table = [] {
    std::array<int, 256> t;
    t.fill(-1);
    const char* a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(a[i])] = i;
    t['-'] = 62;
    t['_'] = 63;
    return t;
  }();
  std::string out;
  out.reserve(in.size() * 3 / 4);
  std::uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : in) {
    if (c == '=' || c == '\n' || c == '\r') continue;
    const int v = table[c];
    if (v < 0) throw FileFormatError("tokenizer.json: invalid base64 character in precompiled_charsmap");
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return out;
}
}  // namespace json_util

Tokenizer::Tokenizer() = default;
Tokenizer::~Tokenizer() = default;
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;

const Model& Tokenizer::model() const {
  if (!model_) throw RuntimeError("Tokenizer has no model");
  return *model_;
}

void Tokenizer::set_normalizer(std::unique_ptr<Normalizer> n) {
  normalizer_ = std::move(n);
  added_.set_tokens(added_.tokens(), normalizer_.get());
}

void Tokenizer::add_tokens(std::vector<AddedToken> tokens) {
  std::vector<AddedToken> all = added_.tokens();
  std::int64_t next = static_cast<std::int64_t>(model_ ? model_->vocab_size() : 0);
  for (const auto& t : all) next = std::max(next, t.id + 1);
  for (auto& t : tokens) {
    if (t.content.empty()) throw InvalidArgument("added token with empty content");
    auto existing = std::find_if(all.begin(), all.end(), [&](const AddedToken& x) { return x.content == t.content; });
    if (model_)
      if (auto id = model_->token_to_id(t.content)) t.id = *id;
    if (t.id < 0) t.id = existing != all.end() ? existing->id : next++;
    if (existing != all.end())
      *existing = t;
    else
      all.push_back(t);
  }
  added_.set_tokens(std::move(all), normalizer_.get());
}

Tokenizer Tokenizer::from_file(const std::filesystem::path& path) {
  const std::string text = read_text_file(path);
  try {
    return from_json(text);
  } catch (const Error& e) {
    throw FileFormatError(path.string() + ": " + e.what());
  }
}

Tokenizer Tokenizer::from_json(const std::string& json) {
  Json j;
  try {
    j = Json::parse(json);
  } catch (const Json::exception& e) {
    throw FileFormatError(std::string("tokenizer.json: invalid JSON: ") + e.what());
  }
  return from_json(j);
}

Tokenizer Tokenizer::from_json(const Json& j) {
  try {
    if (!j.is_object()) throw FileFormatError("tokenizer.json: the top level must be an object");
    Tokenizer t;
    if (!j.contains("model")) throw FileFormatError("tokenizer.json: missing 'model'");
    t.model_ = model_from_json(j["model"]);
    if (j.contains("normalizer")) t.normalizer_ = normalizer_from_json(j["normalizer"]);
    if (j.contains("pre_tokenizer")) t.pre_tokenizer_ = pre_tokenizer_from_json(j["pre_tokenizer"]);
    if (j.contains("post_processor")) t.post_processor_ = post_processor_from_json(j["post_processor"]);
    if (j.contains("decoder")) t.decoder_ = decoder_from_json(j["decoder"]);
    if (j.contains("added_tokens") && j["added_tokens"].is_array()) {
      std::vector<AddedToken> tokens;
      for (const auto& a : j["added_tokens"]) {
        AddedToken tok;
        tok.content = json_util::get_string(a, "content", "added_tokens");
        tok.id = a.value("id", std::int64_t{-1});
        tok.special = a.value("special", false);
        tok.single_word = a.value("single_word", false);
        tok.lstrip = a.value("lstrip", false);
        tok.rstrip = a.value("rstrip", false);
        tok.normalized = a.value("normalized", !tok.special);
        tokens.push_back(std::move(tok));
      }
      t.add_tokens(std::move(tokens));
    }
    if (j.contains("truncation") && j["truncation"].is_object()) {
      const Json& tr = j["truncation"];
      TruncationParams p;
      p.max_length = tr.value("max_length", std::size_t{512});
      p.stride = tr.value("stride", std::size_t{0});
      p.strategy = truncation_strategy_from_string(tr.value("strategy", std::string("LongestFirst")));
      p.direction = tr.value("direction", std::string("Right")) == "Left" ? TruncationDirection::Left
                                                                          : TruncationDirection::Right;
      t.truncation_ = p;
    }
    if (j.contains("padding") && j["padding"].is_object()) {
      const Json& pd = j["padding"];
      PaddingParams p;
      if (pd.contains("strategy") && pd["strategy"].is_object() && pd["strategy"].contains("Fixed")) {
        p.batch_longest = false;
        p.fixed_length = pd["strategy"]["Fixed"].get<std::size_t>();
      }
      p.direction =
          pd.value("direction", std::string("Right")) == "Left" ? PaddingDirection::Left : PaddingDirection::Right;
      if (pd.contains("pad_to_multiple_of") && pd["pad_to_multiple_of"].is_number_integer())
        p.pad_to_multiple_of = pd["pad_to_multiple_of"].get<std::size_t>();
      p.pad_id = pd.value("pad_id", std::int64_t{0});
      p.pad_type_id = pd.value("pad_type_id", std::int64_t{0});
      p.pad_token = pd.value("pad_token", std::string("[PAD]"));
      t.padding_ = p;
    }
    return t;
  } catch (const Json::exception& e) {
    throw FileFormatError(std::string("tokenizer.json: unexpected value: ") + e.what());
  } catch (const std::logic_error& e) {  // out_of_range / length_error from malformed values
    throw FileFormatError(std::string("tokenizer.json: invalid value: ") + e.what());
  }
}

void Tokenizer::set_truncation(std::optional<TruncationParams> params) {
  truncation_ = std::move(params);
}
void Tokenizer::set_padding(std::optional<PaddingParams> params) {
  padding_ = std::move(params);
}

std::optional<std::int64_t> Tokenizer::token_to_id(std::string_view token) const {
  if (auto id = added_.token_to_id(token)) return id;
  return model().token_to_id(token);
}

std::optional<std::string> Tokenizer::id_to_token(std::int64_t id) const {
  if (auto t = added_.id_to_token(id)) return t;
  return model().id_to_token(id);
}

std::size_t Tokenizer::get_vocab_size(bool with_added_tokens) const {
  const std::size_t n = model().vocab_size();
  if (!with_added_tokens) return n;
  std::size_t extra = 0;
  for (const auto& t : added_.tokens())
    if (!model().id_to_token(t.id)) ++extra;
  return n + extra;
}

std::size_t Tokenizer::num_special_tokens_to_add(bool is_pair) const {
  return post_processor_ ? post_processor_->added_tokens(is_pair) : 0;
}

Encoding Tokenizer::encode_single_sequence(std::string_view text, std::int64_t type_id) const {
  if (const auto bad = u::find_invalid_utf8(text); bad != std::string_view::npos)
    throw InvalidArgument("tokenizer input is not valid UTF-8 (invalid byte at offset " + std::to_string(bad) + ")");
  PreTokenizedString p = added_.extract_and_normalize(normalizer_.get(), text);
  if (pre_tokenizer_) pre_tokenizer_->pre_tokenize(p);
  const Model& m = model();
  p.tokenize([&m](const NormalizedString& n) { return m.tokenize(n.get()); });

  // byte -> char index of the input
  std::vector<std::uint32_t> char_of;
  bool ascii = true;
  for (unsigned char c : text)
    if (c >= 0x80) {
      ascii = false;
      break;
    }
  if (!ascii) {
    char_of.resize(text.size());
    std::uint32_t ci = 0;
    for (std::size_t i = 0; i < text.size();) {
      const std::size_t l = u::lead_len(static_cast<unsigned char>(text[i]));
      for (std::size_t k = 0; k < l && i + k < text.size(); ++k) char_of[i + k] = ci;
      ++ci;
      i += l;
    }
  }
  auto to_chars = [&](Offsets o) -> Offsets {
    if (ascii) return o;
    if (o.first >= text.size()) return o;  // not convertible: the Rust library keeps the byte offsets
    const std::size_t s = char_of[o.first];
    const std::size_t e = o.second < text.size() ? char_of[o.second]
                                                 : (o.second == text.size() ? char_of[text.size() - 1] + 1 : o.second);
    return {s, e};
  };

  Encoding e;
  std::size_t n = 0;
  for (const auto& s : p.splits()) n += s.tokens->size();
  e.ids.reserve(n);
  e.tokens.reserve(n);
  e.offsets.reserve(n);
  e.byte_offsets.reserve(n);
  e.word_ids.reserve(n);
  const auto& splits = p.splits();
  for (std::size_t idx = 0; idx < splits.size(); ++idx) {
    const auto& s = splits[idx];
    const std::size_t shift = s.normalized.original_shift();
    for (const auto& t : *s.tokens) {
      Offsets o = t.offsets;
      if (auto r = s.normalized.convert_normalized_to_original(t.offsets.first, t.offsets.second))
        o = {shift + r->first, shift + r->second};
      e.ids.push_back(t.id);
      e.tokens.push_back(t.value);
      e.byte_offsets.push_back(o);
      e.offsets.push_back(to_chars(o));
      e.word_ids.push_back(static_cast<std::uint32_t>(idx));
    }
  }
  e.type_ids.assign(n, type_id);
  e.attention_mask.assign(n, 1);
  e.special_tokens_mask.assign(n, 0);
  return e;
}

namespace {
std::pair<Encoding, std::optional<Encoding>> truncate_encodings(Encoding a, std::optional<Encoding> b,
                                                                const TruncationParams& p) {
  if (p.max_length == 0) {
    a.truncate(0, p.stride, p.direction);
    if (b) b->truncate(0, p.stride, p.direction);
    return {std::move(a), std::move(b)};
  }
  const std::size_t total = a.size() + (b ? b->size() : 0);
  if (total <= p.max_length) return {std::move(a), std::move(b)};
  const std::size_t to_remove = total - p.max_length;
  switch (p.strategy) {
    case TruncationStrategy::LongestFirst:
      if (b) {
        std::size_t n1 = a.size(), n2 = b->size();
        const bool swap = n1 > n2;
        if (swap) std::swap(n1, n2);
        if (n1 > p.max_length)
          n2 = n1;
        else
          n2 = std::max(n1, p.max_length - n1);
        if (n1 + n2 > p.max_length) {
          n1 = p.max_length / 2;
          n2 = n1 + p.max_length % 2;
        }
        if (swap) std::swap(n1, n2);
        a.truncate(n1, p.stride, p.direction);
        b->truncate(n2, p.stride, p.direction);
      } else {
        a.truncate(total - to_remove, p.stride, p.direction);
      }
      break;
    case TruncationStrategy::OnlyFirst:
    case TruncationStrategy::OnlySecond: {
      Encoding* target = nullptr;
      if (p.strategy == TruncationStrategy::OnlyFirst)
        target = &a;
      else if (b)
        target = &*b;
      else
        throw InvalidArgument("Truncation error: Second sequence not provided");
      const std::size_t len = target->size();
      if (len > to_remove)
        target->truncate(len - to_remove, p.stride, p.direction);
      else
        throw InvalidArgument("Truncation error: Sequence to truncate too short to respect the provided max_length");
      break;
    }
  }
  return {std::move(a), std::move(b)};
}
}  // namespace

void pad_encodings(std::vector<Encoding>& encodings, const PaddingParams& params) {
  if (encodings.empty()) return;
  std::size_t len = params.fixed_length;
  if (params.batch_longest) {
    len = 0;
    for (const auto& e : encodings) len = std::max(len, e.size());
  }
  if (params.pad_to_multiple_of && *params.pad_to_multiple_of > 0 && len % *params.pad_to_multiple_of > 0)
    len += *params.pad_to_multiple_of - len % *params.pad_to_multiple_of;
  for (auto& e : encodings) e.pad(len, params.pad_id, params.pad_type_id, params.pad_token, params.direction);
}

Encoding Tokenizer::post_process(Encoding a, std::optional<Encoding> b, bool add_special_tokens) const {
  return post_process(std::move(a), std::move(b), add_special_tokens, truncation_, padding_);
}

Encoding Tokenizer::post_process(Encoding a, std::optional<Encoding> b, bool add_special_tokens,
                                 const std::optional<TruncationParams>& truncation,
                                 const std::optional<PaddingParams>& padding) const {
  if (truncation) {
    const std::size_t n_added = num_special_tokens_to_add(b.has_value());
    TruncationParams p = *truncation;
    if (add_special_tokens && n_added > 0) {
      if (p.max_length < n_added)
        throw InvalidArgument("truncation: max_length " + std::to_string(p.max_length) + " is smaller than the " +
                              std::to_string(n_added) + " special tokens the post-processor adds");
      p.max_length -= n_added;
    }
    std::tie(a, b) = truncate_encodings(std::move(a), std::move(b), p);
  }
  Encoding out;
  if (post_processor_) {
    out = post_processor_->process(std::move(a), std::move(b), add_special_tokens);
  } else if (b) {
    a.set_sequence_id(0);
    b->set_sequence_id(1);
    out.merge_with(std::move(a));
    out.merge_with(std::move(*b));
  } else {
    out = std::move(a);
  }
  out.finalize_sequence_ids();
  if (padding) {
    std::vector<Encoding> v;
    v.push_back(std::move(out));
    pad_encodings(v, *padding);
    out = std::move(v[0]);
  }
  return out;
}

Encoding Tokenizer::encode_impl(std::string_view a, std::optional<std::string_view> b, bool add_special_tokens,
                                const std::optional<TruncationParams>& truncation,
                                const std::optional<PaddingParams>& padding) const {
  Encoding ea = encode_single_sequence(a, 0);
  std::optional<Encoding> eb;
  if (b) eb = encode_single_sequence(*b, 1);
  return post_process(std::move(ea), std::move(eb), add_special_tokens, truncation, padding);
}

Encoding Tokenizer::encode(std::string_view text, bool add_special_tokens) const {
  return encode_impl(text, std::nullopt, add_special_tokens, truncation_, padding_);
}

Encoding Tokenizer::encode_pair(std::string_view a, std::string_view b, bool add_special_tokens) const {
  return encode_impl(a, b, add_special_tokens, truncation_, padding_);
}

std::vector<Encoding> Tokenizer::encode_batch(const std::vector<EncodeInput>& inputs, bool add_special_tokens,
                                              std::size_t num_threads) const {
  EncodeOptions o;
  o.add_special_tokens = add_special_tokens;
  o.truncation = truncation_;
  o.padding = padding_;
  o.num_threads = num_threads;
  return encode_batch(inputs, o);
}

std::vector<Encoding> Tokenizer::encode_batch(const std::vector<EncodeInput>& inputs,
                                              const EncodeOptions& options) const {
  std::vector<Encoding> out(inputs.size());
  std::size_t num_threads = options.num_threads;
  auto work = [&](std::size_t i) {
    const auto& in = inputs[i];
    out[i] = encode_impl(in.text, in.text_pair ? std::optional<std::string_view>(*in.text_pair) : std::nullopt,
                         options.add_special_tokens, options.truncation, options.padding);
  };
  if (num_threads == 0) num_threads = std::max(1u, std::thread::hardware_concurrency());
  num_threads = std::min(num_threads, inputs.size());
  if (num_threads <= 1) {
    for (std::size_t i = 0; i < inputs.size(); ++i) work(i);
  } else {
    std::atomic<std::size_t> next{0};
    std::exception_ptr error;
    std::mutex error_mutex;
    std::vector<std::thread> threads;
    for (std::size_t t = 0; t < num_threads; ++t)
      threads.emplace_back([&] {
        for (std::size_t i; (i = next.fetch_add(1)) < inputs.size();) {
          try {
            work(i);
          } catch (...) {
            std::lock_guard lock(error_mutex);
            if (!error) error = std::current_exception();
          }
        }
      });
    for (auto& th : threads) th.join();
    if (error) std::rethrow_exception(error);
  }
  if (options.padding) pad_encodings(out, *options.padding);
  return out;
}

std::string Tokenizer::decode(std::span<const std::int64_t> ids, bool skip_special_tokens) const {
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (const auto id : ids) {
    std::optional<std::string> t = added_.id_to_token(id);
    if (!t) t = model().id_to_token(id);
    if (!t) continue;
    if (skip_special_tokens && added_.is_special_token(*t)) continue;
    tokens.push_back(std::move(*t));
  }
  if (decoder_) return decoder_->decode(std::move(tokens));
  std::string out;
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    if (i) out += ' ';
    out += tokens[i];
  }
  return out;
}

std::vector<std::string> Tokenizer::decode_batch(const std::vector<std::vector<std::int64_t>>& ids, bool skip) const {
  std::vector<std::string> out;
  for (const auto& v : ids) out.push_back(decode(v, skip));
  return out;
}

}  // namespace ortformers::tokenizers
