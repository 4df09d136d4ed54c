#include "ortformers/tokenizers/pre_tokenizers.hpp"

#include <array>

#include "ortformers/core/error.hpp"
#include "tokenizers/json_util.hpp"
#include "tokenizers/unicode.hpp"

namespace ortformers::tokenizers {

namespace u = unicode;

namespace {

struct ByteTable {
  std::array<std::string, 256> to_str;
  std::array<char32_t, 256> to_char{};
  ByteTable() {
    int n = 0;
    for (int b = 0; b < 256; ++b) {
      const bool keep = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
      const char32_t c = keep ? static_cast<char32_t>(b) : static_cast<char32_t>(256 + n++);
      to_char[b] = c;
      to_str[b] = u::to_utf8(c);
    }
  }
};
const ByteTable& byte_table() {
  static const ByteTable t;
  return t;
}

const char* kGpt2Regex = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

SplitDelimiterBehavior behavior_from_string(const std::string& s) {
  if (s == "Removed") return SplitDelimiterBehavior::Removed;
  if (s == "Isolated") return SplitDelimiterBehavior::Isolated;
  if (s == "MergedWithPrevious") return SplitDelimiterBehavior::MergedWithPrevious;
  if (s == "MergedWithNext") return SplitDelimiterBehavior::MergedWithNext;
  if (s == "Contiguous") return SplitDelimiterBehavior::Contiguous;
  throw FileFormatError("tokenizer.json: unknown split behavior '" + s + "'");
}

class BertPreTokenizer : public PreTokenizer {
 public:
  void pre_tokenize(PreTokenizedString& p) const override {
    p.split([](std::size_t, NormalizedString&& n) {
      std::vector<NormalizedString> out;
      const std::string& t = n.get();
      std::size_t i = 0, len = 0, start = 0;
      while (i < t.size()) {
        const char32_t c = u::decode(t, i, len);
        if (u::is_whitespace(c)) {
          if (start < i) out.push_back(n.slice_normalized(start, i));
          start = i + len;
        } else if (u::is_bert_punctuation(c)) {
          if (start < i) out.push_back(n.slice_normalized(start, i));
          out.push_back(n.slice_normalized(i, i + len));
          start = i + len;
        }
        i += len;
      }
      if (start < t.size()) {
        if (start == 0)
          out.push_back(std::move(n));
        else
          out.push_back(n.slice_normalized(start, t.size()));
      }
      return out;
    });
  }
};

// Whitespace: \w+|[^\w\s]+ (Unicode classes of the Rust regex crate), everything else removed.
class WhitespacePreTokenizer : public PreTokenizer {
 public:
  void pre_tokenize(PreTokenizedString& p) const override {
    p.split([](std::size_t, NormalizedString&& n) {
      std::vector<NormalizedString> out;
      const std::string& t = n.get();
      std::size_t i = 0, len = 0, start = 0;
      int cur = 0;  // 0 none, 1 word, 2 other
      while (i < t.size()) {
        const char32_t c = u::decode(t, i, len);
        const int k = u::is_word_char(c) ? 1 : u::is_whitespace(c) ? 0 : 2;
        if (k != cur) {
          if (cur != 0) out.push_back(n.slice_normalized(start, i));
          start = i;
          cur = k;
        }
        i += len;
      }
      if (cur != 0) out.push_back(n.slice_normalized(start, t.size()));
      return out;
    });
  }
};

class PatternPreTokenizer : public PreTokenizer {
 public:
  PatternPreTokenizer(std::unique_ptr<Pattern> pattern, SplitDelimiterBehavior behavior, bool invert)
      : pattern_(std::move(pattern)), behavior_(behavior), invert_(invert) {}
  void pre_tokenize(PreTokenizedString& p) const override {
    p.split([this](std::size_t, NormalizedString&& n) {
      if (invert_) return n.split(InvertPattern(*pattern_), behavior_);
      return n.split(*pattern_, behavior_);
    });
  }

 private:
  std::unique_ptr<Pattern> pattern_;
  SplitDelimiterBehavior behavior_;
  bool invert_;
};

class ByteLevelPreTokenizer : public PreTokenizer {
 public:
  ByteLevelPreTokenizer(bool add_prefix_space, bool use_regex)
      : add_prefix_space_(add_prefix_space), use_regex_(use_regex) {
    if (use_regex_) regex_ = std::make_unique<RegexPattern>(kGpt2Regex);
  }
  void pre_tokenize(PreTokenizedString& p) const override {
    p.split([this](std::size_t, NormalizedString&& n) {
      if (add_prefix_space_ && (n.get().empty() || n.get()[0] != ' ')) n.prepend(" ");
      if (use_regex_) return n.split(*regex_, SplitDelimiterBehavior::Isolated);
      std::vector<NormalizedString> v;
      v.push_back(std::move(n));
      return v;
    });
    const auto& table = byte_table();
    p.normalize([&table](NormalizedString& n) {
      const std::string& t = n.get();
      // Every byte becomes one char of the table; each char keeps the alignment of the source char.
      std::string out;
      out.reserve(t.size() * 2);
      std::vector<Alignment> al;
      al.reserve(t.size() * 2);
      const auto& src = n.alignments();
      for (std::size_t i = 0; i < t.size(); ++i) {
        const std::string& m = table.to_str[static_cast<unsigned char>(t[i])];
        out += m;
        // Alignment of the first byte of the source char (new chars share the alignment of the previous one).
        std::size_t s = i;
        while (s > 0 && (static_cast<unsigned char>(t[s]) & 0xC0) == 0x80) --s;
        for (std::size_t k = 0; k < m.size(); ++k) al.push_back(src[s]);
      }
      n.mutable_normalized() = std::move(out);
      n.mutable_alignments() = std::move(al);
    });
  }

 private:
  bool add_prefix_space_, use_regex_;
  std::unique_ptr<RegexPattern> regex_;
};

class MetaspacePreTokenizer : public PreTokenizer {
 public:
  MetaspacePreTokenizer(char32_t replacement, std::string scheme, bool split)
      : str_rep_(u::to_utf8(replacement)),
        scheme_(std::move(scheme)),
        split_(split),
        space_(" "),
        rep_pattern_(str_rep_) {
    if (scheme_ != "always" && scheme_ != "first" && scheme_ != "never")
      throw FileFormatError("tokenizer.json: Metaspace prepend_scheme must be always, first or never, not '" + scheme_ +
                            "'");
  }
  void pre_tokenize(PreTokenizedString& p) const override {
    p.split([this](std::size_t, NormalizedString&& n) {
      n.replace(space_, str_rep_);
      const bool starts = n.get().compare(0, str_rep_.size(), str_rep_) == 0;
      if (scheme_ == "always") {
        if (!starts) n.prepend(str_rep_);
      } else if (scheme_ == "first") {
        if (!starts && n.original_shift() == 0) n.prepend(str_rep_);
      }
      if (split_) return n.split(rep_pattern_, SplitDelimiterBehavior::MergedWithNext);
      std::vector<NormalizedString> v;
      v.push_back(std::move(n));
      return v;
    });
  }

 private:
  std::string str_rep_, scheme_;  // the replacement character as UTF-8, prepend_scheme
  bool split_;
  StringPattern space_, rep_pattern_;
};

class SequencePreTokenizer : public PreTokenizer {
 public:
  explicit SequencePreTokenizer(std::vector<std::unique_ptr<PreTokenizer>> v) : v_(std::move(v)) {}
  void pre_tokenize(PreTokenizedString& p) const override {
    for (const auto& x : v_) x->pre_tokenize(p);
  }

 private:
  std::vector<std::unique_ptr<PreTokenizer>> v_;
};

class FixedLengthPreTokenizer : public PreTokenizer {
 public:
  explicit FixedLengthPreTokenizer(std::size_t n) : n_(n) {}
  void pre_tokenize(PreTokenizedString& p) const override {
    p.split([this](std::size_t, NormalizedString&& n) {
      std::vector<NormalizedString> out;
      const std::string& t = n.get();
      std::size_t i = 0, start = 0, count = 0;
      while (i < t.size()) {
        i += u::lead_len(static_cast<unsigned char>(t[i]));
        if (++count == n_) {
          out.push_back(n.slice_normalized(start, i));
          start = i;
          count = 0;
        }
      }
      if (start < t.size()) out.push_back(n.slice_normalized(start, t.size()));
      return out;
    });
  }

 private:
  std::size_t n_;
};

// UnicodeScripts: splits where the Unicode Script property changes (Hiragana, Katakana and U+30FC count as Han, a
// space belongs to any script), as the Rust pre-tokenizer. The Script property comes from PCRE2 (\p{sc:Name}).
class ScriptTable {
 public:
  ScriptTable() {
    static const char* names[] = {"Common",
                                  "Inherited",
                                  "Latin",
                                  "Greek",
                                  "Cyrillic",
                                  "Armenian",
                                  "Hebrew",
                                  "Arabic",
                                  "Syriac",
                                  "Thaana",
                                  "Devanagari",
                                  "Bengali",
                                  "Gurmukhi",
                                  "Gujarati",
                                  "Oriya",
                                  "Tamil",
                                  "Telugu",
                                  "Kannada",
                                  "Malayalam",
                                  "Sinhala",
                                  "Thai",
                                  "Lao",
                                  "Tibetan",
                                  "Myanmar",
                                  "Georgian",
                                  "Hangul",
                                  "Ethiopic",
                                  "Cherokee",
                                  "Canadian_Aboriginal",
                                  "Ogham",
                                  "Runic",
                                  "Khmer",
                                  "Mongolian",
                                  "Hiragana",
                                  "Katakana",
                                  "Bopomofo",
                                  "Han",
                                  "Yi",
                                  "Old_Italic",
                                  "Gothic",
                                  "Deseret",
                                  "Tagalog",
                                  "Hanunoo",
                                  "Buhid",
                                  "Tagbanwa",
                                  "Limbu",
                                  "Tai_Le",
                                  "Linear_B",
                                  "Ugaritic",
                                  "Shavian",
                                  "Osmanya",
                                  "Cypriot",
                                  "Braille",
                                  "Buginese",
                                  "Coptic",
                                  "New_Tai_Lue",
                                  "Glagolitic",
                                  "Tifinagh",
                                  "Syloti_Nagri",
                                  "Old_Persian",
                                  "Kharoshthi",
                                  "Balinese",
                                  "Cuneiform",
                                  "Phoenician",
                                  "Phags_Pa",
                                  "Nko",
                                  "Sundanese",
                                  "Lepcha",
                                  "Ol_Chiki",
                                  "Vai",
                                  "Saurashtra",
                                  "Kayah_Li",
                                  "Rejang",
                                  "Lycian",
                                  "Carian",
                                  "Lydian",
                                  "Cham",
                                  "Tai_Tham",
                                  "Tai_Viet",
                                  "Avestan",
                                  "Egyptian_Hieroglyphs",
                                  "Samaritan",
                                  "Lisu",
                                  "Bamum",
                                  "Javanese",
                                  "Meetei_Mayek",
                                  "Imperial_Aramaic",
                                  "Old_South_Arabian",
                                  "Inscriptional_Parthian",
                                  "Inscriptional_Pahlavi",
                                  "Old_Turkic",
                                  "Kaithi",
                                  "Batak",
                                  "Brahmi",
                                  "Mandaic",
                                  "Chakma",
                                  "Meroitic_Cursive",
                                  "Meroitic_Hieroglyphs",
                                  "Miao",
                                  "Sharada",
                                  "Sora_Sompeng",
                                  "Takri",
                                  "Caucasian_Albanian",
                                  "Bassa_Vah",
                                  "Duployan",
                                  "Elbasan",
                                  "Grantha",
                                  "Pahawh_Hmong",
                                  "Khojki",
                                  "Linear_A",
                                  "Mahajani",
                                  "Manichaean",
                                  "Mende_Kikakui",
                                  "Modi",
                                  "Mro",
                                  "Old_North_Arabian",
                                  "Nabataean",
                                  "Palmyrene",
                                  "Pau_Cin_Hau",
                                  "Old_Permic",
                                  "Psalter_Pahlavi",
                                  "Siddham",
                                  "Khudawadi",
                                  "Tirhuta",
                                  "Warang_Citi",
                                  "Ahom",
                                  "Anatolian_Hieroglyphs",
                                  "Hatran",
                                  "Multani",
                                  "Old_Hungarian",
                                  "SignWriting",
                                  "Adlam",
                                  "Bhaiksuki",
                                  "Marchen",
                                  "Newa",
                                  "Osage",
                                  "Tangut",
                                  "Masaram_Gondi",
                                  "Nushu",
                                  "Soyombo",
                                  "Zanabazar_Square",
                                  "Dogra",
                                  "Gunjala_Gondi",
                                  "Makasar",
                                  "Medefaidrin",
                                  "Hanifi_Rohingya",
                                  "Sogdian",
                                  "Old_Sogdian",
                                  "Elymaic",
                                  "Nandinagari",
                                  "Nyiakeng_Puachue_Hmong",
                                  "Wancho",
                                  "Chorasmian",
                                  "Dives_Akuru",
                                  "Khitan_Small_Script",
                                  "Yezidi",
                                  "Cypro_Minoan",
                                  "Old_Uyghur",
                                  "Tangsa",
                                  "Toto",
                                  "Vithkuqi",
                                  "Kawi",
                                  "Nag_Mundari"};
    std::string pattern;
    for (const char* n : names) {
      const std::string alt = std::string("\\p{sc:") + n + "}";
      try {
        RegexPattern probe(alt);
      } catch (const Error&) {
        continue;  // not known to this PCRE2 version
      }
      if (!pattern.empty()) pattern += "|";
      pattern += "(" + alt + ")";
      names_.push_back(n);
    }
    regex_ = std::make_unique<RegexPattern>(pattern);
  }
  // Index of the script of c in names_, or names_.size() for unknown.
  std::size_t script_of(char32_t c) const {
    const std::string s = u::to_utf8(c);
    std::size_t idx = names_.size();
    regex_->for_each_group(s, [&](std::size_t group) { idx = group - 1; });
    return idx;
  }
  std::size_t index(const std::string& n) const {
    for (std::size_t i = 0; i < names_.size(); ++i)
      if (names_[i] == n) return i;
    return names_.size();
  }

 private:
  std::vector<std::string> names_;
  std::unique_ptr<RegexPattern> regex_;
};

class UnicodeScriptsPreTokenizer : public PreTokenizer {
 public:
  void pre_tokenize(PreTokenizedString& p) const override {
    static const ScriptTable table;
    static const std::size_t han = table.index("Han"), hira = table.index("Hiragana"), kata = table.index("Katakana");
    constexpr std::size_t kAny = static_cast<std::size_t>(-1);
    p.split([](std::size_t, NormalizedString&& n) {
      std::vector<NormalizedString> out;
      const std::string& t = n.get();
      std::vector<std::size_t> cuts;
      std::size_t i = 0, len = 0;
      std::optional<std::size_t> last;
      while (i < t.size()) {
        const char32_t c = u::decode(t, i, len);
        std::size_t script;
        if (c == 0x30FC)
          script = han;
        else if (c == U' ')
          script = kAny;
        else {
          script = table.script_of(c);
          if (script == hira || script == kata) script = han;
        }
        if (script != kAny && last && *last != kAny && *last != script) cuts.push_back(i);
        if (script != kAny) last = script;
        i += len;
      }
      std::size_t start = 0;
      for (std::size_t c : cuts) {
        out.push_back(n.slice_normalized(start, c));
        start = c;
      }
      out.push_back(n.slice_normalized(start, t.size()));
      return out;
    });
  }
};

}  // namespace

const std::string& byte_to_unicode(unsigned char b) {
  return byte_table().to_str[b];
}
int unicode_to_byte(char32_t c) {
  static const auto rev = [] {
    std::array<int, 512> r;
    r.fill(-1);
    for (int b = 0; b < 256; ++b) r[byte_table().to_char[b]] = b;
    return r;
  }();
  return c < 512 ? rev[c] : -1;
}

std::unique_ptr<PreTokenizer> make_bert_pre_tokenizer() {
  return std::make_unique<BertPreTokenizer>();
}
std::unique_ptr<PreTokenizer> make_byte_level_pre_tokenizer(bool add_prefix_space, bool use_regex) {
  return std::make_unique<ByteLevelPreTokenizer>(add_prefix_space, use_regex);
}
std::unique_ptr<PreTokenizer> make_metaspace_pre_tokenizer(char32_t replacement, const std::string& prepend_scheme,
                                                           bool split) {
  return std::make_unique<MetaspacePreTokenizer>(replacement, prepend_scheme, split);
}

char32_t metaspace_replacement(const Json& j) {
  const std::string r = json_util::get_string_or(j, "replacement", "\xE2\x96\x81");
  if (r.empty() || u::find_invalid_utf8(r) != std::string::npos || u::count_chars(r) != 1)
    throw FileFormatError("tokenizer.json: Metaspace replacement must be a single character, not '" + r + "'");
  std::size_t l = 0;
  return u::decode(r, 0, l);
}

std::string metaspace_scheme(const Json& j) {
  if (j.contains("prepend_scheme") && j["prepend_scheme"].is_string()) return j["prepend_scheme"].get<std::string>();
  return json_util::get_bool(j, "add_prefix_space", true) ? "always" : "never";
}

std::unique_ptr<PreTokenizer> pre_tokenizer_from_json(const Json& j) {
  if (j.is_null()) return nullptr;
  const std::string type = json_util::get_string(j, "type", "pre_tokenizer");
  if (type == "BertPreTokenizer") return make_bert_pre_tokenizer();
  if (type == "Whitespace") return std::make_unique<WhitespacePreTokenizer>();
  if (type == "WhitespaceSplit")
    return std::make_unique<PatternPreTokenizer>(std::make_unique<CharPredicatePattern>(u::is_whitespace),
                                                 SplitDelimiterBehavior::Removed, false);
  if (type == "ByteLevel")
    return make_byte_level_pre_tokenizer(json_util::get_bool(j, "add_prefix_space", true),
                                         json_util::get_bool(j, "use_regex", true));
  if (type == "Metaspace")
    return make_metaspace_pre_tokenizer(metaspace_replacement(j), metaspace_scheme(j),
                                        json_util::get_bool(j, "split", true));
  if (type == "Split") {
    const auto [pattern, is_regex] = json_util::get_pattern(j, "Split pre-tokenizer");
    std::unique_ptr<Pattern> p;
    if (is_regex)
      p = std::make_unique<RegexPattern>(pattern);
    else
      p = std::make_unique<StringPattern>(pattern);
    return std::make_unique<PatternPreTokenizer>(
        std::move(p), behavior_from_string(json_util::get_string(j, "behavior", "Split pre-tokenizer")),
        json_util::get_bool(j, "invert", false));
  }
  if (type == "Punctuation")
    return std::make_unique<PatternPreTokenizer>(
        std::make_unique<CharPredicatePattern>(u::is_bert_punctuation),
        behavior_from_string(json_util::get_string_or(j, "behavior", "Isolated")), false);
  if (type == "Digits")
    return std::make_unique<PatternPreTokenizer>(std::make_unique<CharPredicatePattern>(u::is_numeric),
                                                 json_util::get_bool(j, "individual_digits", false)
                                                     ? SplitDelimiterBehavior::Isolated
                                                     : SplitDelimiterBehavior::Contiguous,
                                                 false);
  if (type == "CharDelimiterSplit") {
    const std::string d = json_util::get_string(j, "delimiter", "CharDelimiterSplit");
    std::size_t l = 0;
    if (d.empty()) throw FileFormatError("tokenizer.json: CharDelimiterSplit delimiter is empty");
    const char32_t c = u::decode(d, 0, l);
    return std::make_unique<PatternPreTokenizer>(
        std::make_unique<CharPredicatePattern>([c](char32_t x) { return x == c; }), SplitDelimiterBehavior::Removed,
        false);
  }
  if (type == "UnicodeScripts") return std::make_unique<UnicodeScriptsPreTokenizer>();
  if (type == "FixedLength") {
    const std::size_t n = j.value("length", std::size_t{5});
    if (n == 0) throw FileFormatError("tokenizer.json: FixedLength length must be > 0");
    return std::make_unique<FixedLengthPreTokenizer>(n);
  }
  if (type == "Sequence") {
    std::vector<std::unique_ptr<PreTokenizer>> v;
    for (const auto& x : json_util::get_array(j, "pretokenizers", "Sequence pre-tokenizer"))
      if (auto p = pre_tokenizer_from_json(x)) v.push_back(std::move(p));
    return std::make_unique<SequencePreTokenizer>(std::move(v));
  }
  throw UnsupportedError("pre-tokenizer type '" + type + "' is not supported");
}

}  // namespace ortformers::tokenizers
