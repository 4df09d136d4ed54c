#include <cmath>
#include <limits>

#include "ortformers/core/error.hpp"
#include "ortformers/tokenizers/models.hpp"
#include "tokenizers/models/model_util.hpp"
#include "tokenizers/unicode.hpp"

namespace ortformers::tokenizers {

namespace {

// Byte trie: every node lists its children (byte, node); `value` is the vocabulary id of a full piece.
class ByteTrie {
 public:
  ByteTrie() { nodes_.emplace_back(); }
  void insert(std::string_view key, std::int64_t id) {
    std::size_t n = 0;
    for (unsigned char c : key) {
      std::int32_t child = find(n, c);
      if (child < 0) {
        child = static_cast<std::int32_t>(nodes_.size());
        nodes_[n].children.push_back({c, child});
        nodes_.emplace_back();
      }
      n = static_cast<std::size_t>(child);
    }
    if (nodes_[n].value < 0) nodes_[n].value = id;
  }
  // Calls fn(length, id) for every piece that is a prefix of s, shortest first.
  template <class F>
  void common_prefix_search(std::string_view s, F&& fn) const {
    std::size_t n = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
      const std::int32_t child = find(n, static_cast<unsigned char>(s[i]));
      if (child < 0) return;
      n = static_cast<std::size_t>(child);
      if (nodes_[n].value >= 0) fn(i + 1, nodes_[n].value);
    }
  }

 private:
  struct Node {
    std::vector<std::pair<unsigned char, std::int32_t>> children;
    std::int64_t value = -1;
  };
  std::int32_t find(std::size_t n, unsigned char c) const {
    for (const auto& [k, v] : nodes_[n].children)
      if (k == c) return v;
    return -1;
  }
  std::vector<Node> nodes_;
};

class Unigram : public Model {
 public:
  Unigram(std::vector<UnigramPiece> vocab, std::optional<std::size_t> unk_id, bool byte_fallback)
      : pieces_(std::move(vocab)), unk_id_(unk_id), byte_fallback_(byte_fallback) {
    if (unk_id_ && *unk_id_ >= pieces_.size())
      throw FileFormatError("tokenizer.json: Unigram unk_id " + std::to_string(*unk_id_) + " is out of the vocabulary");
    min_score_ = std::numeric_limits<double>::infinity();
    for (std::size_t id = 0; id < pieces_.size(); ++id) {
      const auto& p = pieces_[id];
      ids_.emplace(p.piece, static_cast<std::int64_t>(id));
      trie_.insert(p.piece, static_cast<std::int64_t>(id));
      min_score_ = std::min(min_score_, p.score);
    }
  }

  std::vector<Token> tokenize(std::string_view s) const override {
    std::vector<Token> out;
    if (s.empty()) return out;
    struct Node {
      std::int64_t id = 0;
      double score = 0;
      std::ptrdiff_t starts_at = -1;
    };
    const std::size_t size = s.size();
    const double unk_score = min_score_ - 10.0;
    std::vector<Node> best(size + 1);
    std::size_t starts_at = 0;
    while (starts_at < size) {
      const double base = best[starts_at].score;
      bool has_single = false;
      const std::size_t mblen = std::min(unicode::lead_len(static_cast<unsigned char>(s[starts_at])), size - starts_at);
      trie_.common_prefix_search(s.substr(starts_at), [&](std::size_t len, std::int64_t id) {
        Node& target = best[starts_at + len];
        const double cand = pieces_[static_cast<std::size_t>(id)].score + base;
        if (target.starts_at < 0 || cand > target.score) {
          target.score = cand;
          target.starts_at = static_cast<std::ptrdiff_t>(starts_at);
          target.id = id;
        }
        if (!has_single && len == mblen) has_single = true;
      });
      if (!has_single) {
        if (!unk_id_) throw InvalidArgument("Unigram: the model has no unk_id and the input has an unknown character");
        Node& target = best[starts_at + mblen];
        const double cand = unk_score + base;
        if (target.starts_at < 0 || cand > target.score) {
          target.score = cand;
          target.starts_at = static_cast<std::ptrdiff_t>(starts_at);
          target.id = static_cast<std::int64_t>(*unk_id_);
        }
      }
      starts_at += mblen;
    }
    // Backtrack, fusing consecutive unknowns.
    std::vector<std::pair<std::size_t, std::size_t>> ranges;
    std::size_t ends_at = size;
    std::optional<std::pair<std::size_t, std::size_t>> pending_unk;
    while (ends_at > 0) {
      const Node& node = best[ends_at];
      const std::size_t st = static_cast<std::size_t>(node.starts_at);
      if (unk_id_ && node.id == static_cast<std::int64_t>(*unk_id_)) {
        if (pending_unk)
          pending_unk->first = st;
        else
          pending_unk = std::make_pair(st, ends_at);
      } else {
        if (pending_unk) {
          ranges.push_back(*pending_unk);
          pending_unk.reset();
        }
        ranges.push_back({st, ends_at});
      }
      ends_at = st;
    }
    if (pending_unk) ranges.push_back(*pending_unk);
    out.reserve(ranges.size());
    for (auto it = ranges.rbegin(); it != ranges.rend(); ++it) {
      const auto [a, b] = *it;
      std::string piece(s.substr(a, b - a));
      auto id = ids_.find(piece);
      if (id != ids_.end()) {
        out.push_back(Token{id->second, std::move(piece), {a, b}});
        continue;
      }
      if (byte_fallback_) {
        std::vector<Token> bytes;
        char code[8];
        for (unsigned char c : piece) {
          std::snprintf(code, sizeof(code), "<0x%02X>", c);
          auto bt = ids_.find(std::string_view(code));
          if (bt == ids_.end()) break;
          bytes.push_back(Token{bt->second, code, {a, b}});
        }
        if (bytes.size() == piece.size()) {
          for (auto& t : bytes) out.push_back(std::move(t));
          continue;
        }
      }
      if (!unk_id_) throw InvalidArgument("Unigram: the model has no unk_id");
      out.push_back(Token{static_cast<std::int64_t>(*unk_id_), std::move(piece), {a, b}});
    }
    return out;
  }

  std::optional<std::int64_t> token_to_id(std::string_view t) const override { return lookup(ids_, t); }
  std::optional<std::string> id_to_token(std::int64_t id) const override {
    if (id < 0 || static_cast<std::size_t>(id) >= pieces_.size()) return std::nullopt;
    return pieces_[static_cast<std::size_t>(id)].piece;
  }
  std::size_t vocab_size() const override { return pieces_.size(); }
  std::string type() const override { return "Unigram"; }

 private:
  std::vector<UnigramPiece> pieces_;
  std::optional<std::size_t> unk_id_;
  bool byte_fallback_;
  Vocab ids_;
  ByteTrie trie_;
  double min_score_;
};

class WordLevel : public Model {
 public:
  WordLevel(Vocab vocab, std::string unk) : vocab_(std::move(vocab)), unk_(std::move(unk)) {
    vocab_r_ = reverse_vocab(vocab_);
  }
  std::vector<Token> tokenize(std::string_view s) const override {
    auto it = vocab_.find(s);
    if (it != vocab_.end()) return {Token{it->second, std::string(s), {0, s.size()}}};
    auto u = vocab_.find(unk_);
    if (u == vocab_.end()) throw InvalidArgument("WordLevel: unk token '" + unk_ + "' is not in the vocabulary");
    return {Token{u->second, unk_, {0, s.size()}}};
  }
  std::optional<std::int64_t> token_to_id(std::string_view t) const override { return lookup(vocab_, t); }
  std::optional<std::string> id_to_token(std::int64_t id) const override { return lookup_r(vocab_r_, id); }
  std::size_t vocab_size() const override { return vocab_.size(); }
  std::string type() const override { return "WordLevel"; }

 private:
  Vocab vocab_;
  std::vector<std::string> vocab_r_;
  std::string unk_;
};

}  // namespace

std::unique_ptr<Model> make_unigram(std::vector<UnigramPiece> vocab, std::optional<std::size_t> unk_id,
                                    bool byte_fallback) {
  return std::make_unique<Unigram>(std::move(vocab), unk_id, byte_fallback);
}
std::unique_ptr<Model> make_wordlevel(Vocab vocab, const std::string& unk_token) {
  return std::make_unique<WordLevel>(std::move(vocab), unk_token);
}

Vocab vocab_from_json(const Json& j, const char* where) {
  if (!j.is_object()) throw FileFormatError(std::string("tokenizer.json: ") + where + ": 'vocab' must be an object");
  Vocab v;
  v.reserve(j.size());
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (!it.value().is_number_integer())
      throw FileFormatError(std::string("tokenizer.json: ") + where + ": id of '" + it.key() + "' is not an integer");
    v.emplace(it.key(), it.value().get<std::int64_t>());
  }
  return v;
}

std::unique_ptr<Model> model_from_json(const Json& j) {
  if (!j.is_object()) throw FileFormatError("tokenizer.json: 'model' must be an object");
  std::string type = j.contains("type") && j["type"].is_string() ? j["type"].get<std::string>() : "";
  if (type.empty()) {  // untyped model object: infer from the fields, as serde(untagged) does
    if (j.contains("vocab") && j["vocab"].is_array())
      type = "Unigram";
    else if (j.contains("merges"))
      type = "BPE";
    else if (j.contains("continuing_subword_prefix") || j.contains("max_input_chars_per_word"))
      type = "WordPiece";
    else if (j.contains("vocab"))
      type = "WordLevel";
    else
      throw FileFormatError("tokenizer.json: cannot infer the model type from its fields");
  }
  if (type == "WordPiece") {
    WordPieceOptions o;
    o.unk_token = j.value("unk_token", std::string("[UNK]"));
    o.continuing_subword_prefix = j.value("continuing_subword_prefix", std::string("##"));
    o.max_input_chars_per_word = j.value("max_input_chars_per_word", std::size_t{100});
    return make_wordpiece(vocab_from_json(j.at("vocab"), "WordPiece"), o);
  }
  if (type == "WordLevel") {
    return make_wordlevel(vocab_from_json(j.at("vocab"), "WordLevel"), j.value("unk_token", std::string("<unk>")));
  }
  if (type == "BPE") {
    BpeOptions o;
    auto opt_str = [&](const char* k) -> std::optional<std::string> {
      if (j.contains(k) && j[k].is_string()) return j[k].get<std::string>();
      return std::nullopt;
    };
    o.unk_token = opt_str("unk_token");
    o.continuing_subword_prefix = opt_str("continuing_subword_prefix");
    o.end_of_word_suffix = opt_str("end_of_word_suffix");
    o.fuse_unk = j.value("fuse_unk", false);
    o.byte_fallback = j.value("byte_fallback", false);
    o.ignore_merges = j.value("ignore_merges", false);
    std::vector<std::pair<std::string, std::string>> merges;
    if (j.contains("merges") && j["merges"].is_array()) {
      merges.reserve(j["merges"].size());
      for (const auto& m : j["merges"]) {
        if (m.is_string()) {
          const std::string s = m.get<std::string>();
          const auto sp = s.find(' ');
          if (sp == std::string::npos) throw FileFormatError("tokenizer.json: BPE merge '" + s + "' has no space");
          merges.emplace_back(s.substr(0, sp), s.substr(sp + 1));
        } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
          merges.emplace_back(m[0].get<std::string>(), m[1].get<std::string>());
        } else {
          throw FileFormatError("tokenizer.json: BPE merges must be \"a b\" strings or [a, b] pairs");
        }
      }
    }
    return make_bpe(vocab_from_json(j.at("vocab"), "BPE"), merges, o);
  }
  if (type == "Unigram") {
    std::vector<UnigramPiece> pieces;
    const Json& v = j.at("vocab");
    if (!v.is_array()) throw FileFormatError("tokenizer.json: Unigram vocab must be an array of [piece, score]");
    pieces.reserve(v.size());
    for (const auto& p : v) {
      if (!p.is_array() || p.size() != 2 || !p[0].is_string() || !p[1].is_number())
        throw FileFormatError("tokenizer.json: Unigram vocab entries must be [piece, score]");
      pieces.push_back({p[0].get<std::string>(), p[1].get<double>()});
    }
    std::optional<std::size_t> unk;
    if (j.contains("unk_id") && j["unk_id"].is_number_integer()) unk = j["unk_id"].get<std::size_t>();
    return make_unigram(std::move(pieces), unk, j.value("byte_fallback", false));
  }
  throw UnsupportedError("model type '" + type + "' is not supported");
}

}  // namespace ortformers::tokenizers
