#include "ortformers/tokenizers/post_processors.hpp"

#include <charconv>
#include <map>

#include "ortformers/core/error.hpp"
#include "tokenizers/json_util.hpp"
#include "tokenizers/unicode.hpp"

namespace ortformers::tokenizers {

namespace u = unicode;

Encoding PostProcessor::process(Encoding encoding, std::optional<Encoding> pair, bool add_special_tokens) const {
  std::vector<Encoding> encs;
  encs.push_back(std::move(encoding));
  if (pair) encs.push_back(std::move(*pair));
  for (std::size_t i = 0; i < encs.size(); ++i) encs[i].set_sequence_id(static_cast<std::uint32_t>(i));
  return Encoding::merge(process_encodings(std::move(encs), add_special_tokens), false);
}

namespace {

Encoding special_encoding(const std::vector<std::int64_t>& ids, const std::vector<std::string>& tokens,
                          std::int64_t type_id) {
  Encoding e;
  e.ids = ids;
  e.tokens = tokens;
  const std::size_t n = ids.size();
  e.type_ids.assign(n, type_id);
  e.word_ids.assign(n, std::nullopt);
  e.offsets.assign(n, {0, 0});
  e.byte_offsets.assign(n, {0, 0});
  e.special_tokens_mask.assign(n, 1);
  e.attention_mask.assign(n, 1);
  return e;
}

void set_sequence(Encoding& e, std::uint32_t seq, std::optional<std::int64_t> type_id) {
  if (type_id) e.set_type_id(*type_id);
  e.set_sequence_id(seq);
  for (auto& o : e.overflowing) set_sequence(o, seq, type_id);
}

// ByteLevel offsets trimming (leading / trailing spaces are not part of a word).
void trim_offsets(Encoding& e, bool add_prefix_space) {
  static const char32_t kSpace = 0x120;  // byte-level char of ' '
  for (std::size_t i = 0; i < e.tokens.size(); ++i) {
    const std::string& t = e.tokens[i];
    std::vector<char32_t> chars;
    std::size_t p = 0, l = 0;
    while (p < t.size()) {
      chars.push_back(u::decode(t, p, l));
      p += l;
    }
    std::size_t leading = 0, trailing = 0;
    while (leading < chars.size() && (chars[leading] == kSpace || u::is_whitespace(chars[leading]))) ++leading;
    while (trailing < chars.size() &&
           (chars[chars.size() - 1 - trailing] == kSpace || u::is_whitespace(chars[chars.size() - 1 - trailing])))
      ++trailing;
    if (leading == 0 && trailing == 0) continue;
    auto apply = [&](std::pair<std::size_t, std::size_t>& o) {
      std::size_t lead = leading;
      if (lead > 0) {
        const bool is_first = i == 0 || o.first == 0;
        if (is_first && add_prefix_space && lead == 1) lead = 0;
        o.first = std::min(o.first + lead, o.second);
      }
      if (trailing > 0 && o.second >= trailing) o.second = std::max(o.second - trailing, o.first);
    };
    apply(e.offsets[i]);
    apply(e.byte_offsets[i]);
  }
}

struct TemplatePiece {
  bool special;
  std::string id;     // special token id
  std::uint32_t seq;  // 0 = A, 1 = B
  std::int64_t type_id;
};

struct SpecialToken {
  std::vector<std::int64_t> ids;
  std::vector<std::string> tokens;
};

class TemplateProcessing : public PostProcessor {
 public:
  TemplateProcessing(std::vector<TemplatePiece> single, std::vector<TemplatePiece> pair,
                     std::map<std::string, SpecialToken> specials)
      : single_(std::move(single)), pair_(std::move(pair)), specials_(std::move(specials)) {
    for (const auto* t : {&single_, &pair_})
      for (const auto& p : *t)
        if (p.special && !specials_.count(p.id))
          throw FileFormatError("tokenizer.json: TemplateProcessing uses special token '" + p.id +
                                "' missing from special_tokens");
  }
  std::size_t added_tokens(bool is_pair) const override {
    std::size_t n = 0;
    for (const auto& p : is_pair ? pair_ : single_)
      if (p.special) n += specials_.at(p.id).ids.size();
    return n;
  }
  std::vector<Encoding> process_encodings(std::vector<Encoding> encs, bool add_special_tokens) const override {
    const auto& tmpl = encs.size() == 2 ? pair_ : single_;
    std::vector<Encoding> out;
    for (const auto& p : tmpl) {
      if (p.special) {
        if (!add_special_tokens) continue;
        const auto& s = specials_.at(p.id);
        out.push_back(special_encoding(s.ids, s.tokens, p.type_id));
      } else {
        if (p.seq >= encs.size())
          throw InvalidArgument("TemplateProcessing: the template uses $B but no pair was given");
        // A sequence used once by the template is moved, else copied.
        std::size_t uses = 0;
        for (const auto& q : tmpl) uses += !q.special && q.seq == p.seq;
        Encoding e = uses == 1 ? std::move(encs[p.seq]) : encs[p.seq];
        // The type id goes on the sequence itself only (overflowing parts keep theirs), the sequence id on all.
        e.set_type_id(p.type_id);
        set_sequence(e, p.seq, std::nullopt);
        out.push_back(std::move(e));
      }
    }
    return out;
  }

 private:
  std::vector<TemplatePiece> single_, pair_;
  std::map<std::string, SpecialToken> specials_;
};

class RobertaProcessing : public PostProcessor {
 public:
  RobertaProcessing(std::pair<std::string, std::int64_t> sep, std::pair<std::string, std::int64_t> cls, bool trim,
                    bool add_prefix_space, bool roberta)
      : sep_(std::move(sep)), cls_(std::move(cls)), trim_(trim), aps_(add_prefix_space), roberta_(roberta) {}
  std::size_t added_tokens(bool is_pair) const override { return is_pair ? (roberta_ ? 4 : 3) : 2; }
  std::vector<Encoding> process_encodings(std::vector<Encoding> encs, bool add_special_tokens) const override {
    if (roberta_ && trim_)
      for (auto& e : encs) {
        trim_offsets(e, aps_);
        for (auto& o : e.overflowing) trim_offsets(o, aps_);
      }
    if (!add_special_tokens) {
      if (roberta_)
        for (std::uint32_t i = 0; i < encs.size(); ++i) set_sequence(encs[i], i, 0);
      return encs;
    }
    std::vector<Encoding> out;
    auto wrap = [&](const Encoding& e, std::uint32_t i) {
      Encoding r;
      if (i == 0) {
        r = special_encoding({cls_.second}, {cls_.first}, 0);
        Encoding body = e;
        body.overflowing.clear();
        set_sequence(body, 0, 0);
        r.merge_with(std::move(body));
        r.merge_with(special_encoding({sep_.second}, {sep_.first}, 0));
      } else {
        const std::int64_t t = roberta_ ? 0 : 1;
        if (roberta_) r = special_encoding({sep_.second}, {sep_.first}, t);
        Encoding body = e;
        body.overflowing.clear();
        set_sequence(body, 1, t);
        r.merge_with(std::move(body));
        r.merge_with(special_encoding({sep_.second}, {sep_.first}, t));
      }
      return r;
    };
    for (std::uint32_t i = 0; i < encs.size(); ++i) {
      Encoding r = wrap(encs[i], i);
      for (const auto& o : encs[i].overflowing) r.overflowing.push_back(wrap(o, i));
      out.push_back(std::move(r));
    }
    return out;
  }

 private:
  std::pair<std::string, std::int64_t> sep_, cls_;
  bool trim_, aps_, roberta_;
};

class ByteLevelProcessing : public PostProcessor {
 public:
  ByteLevelProcessing(bool aps, bool trim) : aps_(aps), trim_(trim) {}
  std::size_t added_tokens(bool) const override { return 0; }
  std::vector<Encoding> process_encodings(std::vector<Encoding> encs, bool) const override {
    if (trim_)
      for (auto& e : encs) {
        trim_offsets(e, aps_);
        for (auto& o : e.overflowing) trim_offsets(o, aps_);
      }
    for (std::size_t i = 0; i < encs.size(); ++i) set_sequence(encs[i], static_cast<std::uint32_t>(i), std::nullopt);
    return encs;
  }

 private:
  bool aps_, trim_;
};

class SequenceProcessing : public PostProcessor {
 public:
  explicit SequenceProcessing(std::vector<std::unique_ptr<PostProcessor>> v) : v_(std::move(v)) {}
  std::size_t added_tokens(bool is_pair) const override {
    std::size_t n = 0;
    for (const auto& p : v_) n += p->added_tokens(is_pair);
    return n;
  }
  std::vector<Encoding> process_encodings(std::vector<Encoding> encs, bool add) const override {
    for (const auto& p : v_) encs = p->process_encodings(std::move(encs), add);
    return encs;
  }

 private:
  std::vector<std::unique_ptr<PostProcessor>> v_;
};

std::int64_t parse_type_id(const std::string& digits, const std::string& piece) {
  std::int64_t v = 0;
  const auto r = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  if (r.ec != std::errc() || r.ptr != digits.data() + digits.size())
    throw InvalidArgument("TemplateProcessing: invalid type id in template piece '" + piece + "'");
  return v;
}

std::vector<TemplatePiece> parse_template_string(const std::string& s) {
  std::vector<TemplatePiece> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && s[i] == ' ') ++i;
    if (i >= s.size()) break;
    std::size_t j = s.find(' ', i);
    if (j == std::string::npos) j = s.size();
    std::string piece = s.substr(i, j - i);
    i = j;
    std::int64_t type_id = 0;
    const auto colon = piece.rfind(':');
    if (colon != std::string::npos && colon + 1 < piece.size() &&
        piece.find_first_not_of("0123456789", colon + 1) == std::string::npos) {
      type_id = parse_type_id(piece.substr(colon + 1), piece);
      piece = piece.substr(0, colon);
    }
    if (!piece.empty() && piece[0] == '$') {
      const std::string id = piece.substr(1);
      if (id.empty() || id == "A" || id == "a")
        out.push_back({false, "", 0, type_id});
      else if (id == "B" || id == "b")
        out.push_back({false, "", 1, type_id});
      else if (id.find_first_not_of("0123456789") == std::string::npos)
        out.push_back({false, "", 0, parse_type_id(id, piece)});
      else
        throw InvalidArgument("TemplateProcessing: cannot parse template piece '$" + id + "'");
    } else {
      out.push_back({true, piece, 0, type_id});
    }
  }
  return out;
}

std::vector<TemplatePiece> parse_template(const Json& j) {
  if (j.is_string()) return parse_template_string(j.get<std::string>());
  std::vector<TemplatePiece> out;
  if (!j.is_array()) throw FileFormatError("tokenizer.json: TemplateProcessing template must be an array or a string");
  for (const auto& p : j) {
    if (p.contains("Sequence")) {
      const Json& s = p["Sequence"];
      const std::string id = json_util::get_string(s, "id", "TemplateProcessing Sequence");
      out.push_back({false, "", id == "B" ? 1u : 0u, s.value("type_id", std::int64_t{0})});
    } else if (p.contains("SpecialToken")) {
      const Json& s = p["SpecialToken"];
      out.push_back({true, json_util::get_string(s, "id", "TemplateProcessing SpecialToken"), 0,
                     s.value("type_id", std::int64_t{0})});
    } else {
      throw FileFormatError("tokenizer.json: TemplateProcessing piece must be Sequence or SpecialToken");
    }
  }
  return out;
}

std::pair<std::string, std::int64_t> token_pair(const Json& j, const char* key) {
  if (!j.contains(key) || !j[key].is_array() || j[key].size() != 2 || !j[key][0].is_string() ||
      !j[key][1].is_number_integer())
    throw FileFormatError(std::string("tokenizer.json: post_processor field '") + key + "' must be [token, id]");
  return {j[key][0].get<std::string>(), j[key][1].get<std::int64_t>()};
}

}  // namespace

std::unique_ptr<PostProcessor> make_template_processing(
    const std::string& single, const std::string& pair,
    const std::vector<std::pair<std::string, std::int64_t>>& special_tokens) {
  std::map<std::string, SpecialToken> m;
  for (const auto& [t, id] : special_tokens) m[t] = SpecialToken{{id}, {t}};
  return std::make_unique<TemplateProcessing>(parse_template_string(single), parse_template_string(pair), std::move(m));
}
std::unique_ptr<PostProcessor> make_roberta_processing(std::pair<std::string, std::int64_t> sep,
                                                       std::pair<std::string, std::int64_t> cls, bool trim_offsets,
                                                       bool add_prefix_space) {
  return std::make_unique<RobertaProcessing>(std::move(sep), std::move(cls), trim_offsets, add_prefix_space, true);
}
std::unique_ptr<PostProcessor> make_byte_level_processing(bool add_prefix_space, bool trim_offsets) {
  return std::make_unique<ByteLevelProcessing>(add_prefix_space, trim_offsets);
}

std::unique_ptr<PostProcessor> post_processor_from_json(const Json& j) {
  if (j.is_null()) return nullptr;
  const std::string type = json_util::get_string(j, "type", "post_processor");
  if (type == "TemplateProcessing") {
    std::map<std::string, SpecialToken> m;
    if (j.contains("special_tokens") && j["special_tokens"].is_object()) {
      for (auto it = j["special_tokens"].begin(); it != j["special_tokens"].end(); ++it) {
        SpecialToken st;
        const Json& v = it.value();
        for (const auto& id : json_util::get_array(v, "ids", "TemplateProcessing special token"))
          st.ids.push_back(id.get<std::int64_t>());
        for (const auto& t : json_util::get_array(v, "tokens", "TemplateProcessing special token"))
          st.tokens.push_back(t.get<std::string>());
        if (st.ids.size() != st.tokens.size())
          throw FileFormatError("tokenizer.json: TemplateProcessing special token '" + it.key() +
                                "' has ids and tokens of different lengths");
        m[json_util::get_string_or(v, "id", it.key())] = std::move(st);
      }
    }
    return std::make_unique<TemplateProcessing>(parse_template(j.at("single")), parse_template(j.at("pair")),
                                                std::move(m));
  }
  if (type == "BertProcessing")
    return std::make_unique<RobertaProcessing>(token_pair(j, "sep"), token_pair(j, "cls"), false, false, false);
  if (type == "RobertaProcessing")
    return std::make_unique<RobertaProcessing>(token_pair(j, "sep"), token_pair(j, "cls"),
                                               json_util::get_bool(j, "trim_offsets", true),
                                               json_util::get_bool(j, "add_prefix_space", true), true);
  if (type == "ByteLevel")
    return make_byte_level_processing(json_util::get_bool(j, "add_prefix_space", true),
                                      json_util::get_bool(j, "trim_offsets", true));
  if (type == "Sequence") {
    std::vector<std::unique_ptr<PostProcessor>> v;
    for (const auto& p : json_util::get_array(j, "processors", "Sequence post_processor"))
      if (auto x = post_processor_from_json(p)) v.push_back(std::move(x));
    return std::make_unique<SequenceProcessing>(std::move(v));
  }
  throw UnsupportedError("post-processor type '" + type + "' is not supported");
}

}  // namespace ortformers::tokenizers
