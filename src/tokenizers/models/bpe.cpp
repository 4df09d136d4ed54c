#include <mutex>
#include <queue>
#include <shared_mutex>

#include "ortformers/core/error.hpp"
#include "ortformers/tokenizers/models.hpp"
#include "tokenizers/models/model_util.hpp"
#include "tokenizers/unicode.hpp"

namespace ortformers::tokenizers {

namespace {

struct Symbol {
  std::int64_t c;
  std::ptrdiff_t prev, next;
  std::size_t len;
};

struct MergeEntry {
  std::uint32_t rank;
  std::int64_t new_id;
};

struct Piece {
  std::int64_t id;
  std::uint32_t start, end;
};

class Bpe : public Model {
 public:
  Bpe(Vocab vocab, const std::vector<std::pair<std::string, std::string>>& merges, BpeOptions o)
      : vocab_(std::move(vocab)), o_(std::move(o)) {
    vocab_r_ = reverse_vocab(vocab_);
    const std::size_t prefix_len = o_.continuing_subword_prefix ? o_.continuing_subword_prefix->size() : 0;
    merges_.reserve(merges.size() * 2);
    for (std::size_t rank = 0; rank < merges.size(); ++rank) {
      const auto& [a, b] = merges[rank];
      auto ia = vocab_.find(a), ib = vocab_.find(b);
      if (ia == vocab_.end())
        throw FileFormatError("tokenizer.json: BPE merge token '" + a + "' is not in the vocabulary");
      if (ib == vocab_.end())
        throw FileFormatError("tokenizer.json: BPE merge token '" + b + "' is not in the vocabulary");
      std::string merged = a;
      if (prefix_len && b.compare(0, prefix_len, *o_.continuing_subword_prefix) == 0)
        merged.append(b, prefix_len);
      else
        merged += b;
      auto im = vocab_.find(merged);
      if (im == vocab_.end())
        throw FileFormatError("tokenizer.json: BPE merge result '" + merged + "' is not in the vocabulary");
      merges_.emplace(key(ia->second, ib->second), MergeEntry{static_cast<std::uint32_t>(rank), im->second});
    }
    if (o_.unk_token) {
      auto it = vocab_.find(*o_.unk_token);
      if (it != vocab_.end()) unk_id_ = it->second;
    }
  }

  std::vector<Token> tokenize(std::string_view seq) const override {
    std::vector<Token> out;
    if (seq.empty()) return out;
    if (o_.ignore_merges) {
      auto it = vocab_.find(seq);
      if (it != vocab_.end()) {
        out.push_back(Token{it->second, std::string(seq), {0, seq.size()}});
        return out;
      }
    }
    std::vector<Piece> pieces;
    const bool cacheable = seq.size() < 256;
    bool hit = false;
    if (cacheable) {
      std::shared_lock lock(cache_mutex_);
      auto it = cache_.find(seq);
      if (it != cache_.end()) {
        pieces = it->second;
        hit = true;
      }
    }
    if (!hit) {
      pieces = merge_word(seq);
      if (cacheable) {
        std::unique_lock lock(cache_mutex_);
        if (cache_.size() < 10000) cache_.emplace(std::string(seq), pieces);
      }
    }
    out.reserve(pieces.size());
    for (const auto& p : pieces) out.push_back(Token{p.id, vocab_r_[static_cast<std::size_t>(p.id)], {p.start, p.end}});
    return out;
  }

  std::optional<std::int64_t> token_to_id(std::string_view t) const override { return lookup(vocab_, t); }
  std::optional<std::string> id_to_token(std::int64_t id) const override { return lookup_r(vocab_r_, id); }
  std::size_t vocab_size() const override { return vocab_.size(); }
  std::string type() const override { return "BPE"; }

 private:
  static std::uint64_t key(std::int64_t a, std::int64_t b) {
    return (static_cast<std::uint64_t>(a) << 32) | static_cast<std::uint64_t>(static_cast<std::uint32_t>(b));
  }

  std::vector<Piece> merge_word(std::string_view w) const {
    std::vector<Symbol> symbols;
    symbols.reserve(w.size());
    auto add = [&](std::int64_t c, std::size_t len) {
      const std::ptrdiff_t n = static_cast<std::ptrdiff_t>(symbols.size());
      if (n > 0) symbols.back().next = n;
      symbols.push_back(Symbol{c, n - 1, -1, len});
    };
    bool has_unk = false;  // pending unknown run (id, byte length)
    std::int64_t unk_id = 0;
    std::size_t unk_len = 0;
    std::string buf;
    std::size_t i = 0;
    while (i < w.size()) {
      const std::size_t l = unicode::lead_len(static_cast<unsigned char>(w[i]));
      const std::size_t end = std::min(i + l, w.size());
      const bool is_first = i == 0, is_last = end == w.size();
      std::string_view s = w.substr(i, end - i);
      const std::size_t byte_len = s.size();
      if ((!is_first && o_.continuing_subword_prefix) || (is_last && o_.end_of_word_suffix)) {
        buf.clear();
        if (!is_first && o_.continuing_subword_prefix) buf += *o_.continuing_subword_prefix;
        buf += s;
        if (is_last && o_.end_of_word_suffix) buf += *o_.end_of_word_suffix;
        s = buf;
      }
      auto it = vocab_.find(s);
      if (it != vocab_.end()) {
        if (has_unk) {
          add(unk_id, unk_len);
          has_unk = false;
        }
        add(it->second, byte_len);
      } else {
        bool done = false;
        if (o_.byte_fallback) {
          std::vector<std::int64_t> ids;
          char code[8];
          for (unsigned char b : s) {
            std::snprintf(code, sizeof(code), "<0x%02X>", b);
            auto bt = vocab_.find(std::string_view(code));
            if (bt == vocab_.end()) break;
            ids.push_back(bt->second);
          }
          if (ids.size() == s.size()) {
            for (auto id : ids) add(id, 1);
            done = true;
          }
        }
        if (!done && o_.unk_token) {
          if (!unk_id_) throw InvalidArgument("BPE: unk token '" + *o_.unk_token + "' is not in the vocabulary");
          if (has_unk && o_.fuse_unk) {
            unk_len += byte_len;
          } else {
            if (has_unk) add(unk_id, unk_len);
            has_unk = true;
            unk_id = *unk_id_;
            unk_len = byte_len;
          }
        }
      }
      i = end;
    }
    if (has_unk) add(unk_id, unk_len);
    merge_all(symbols);
    std::vector<Piece> pieces;
    pieces.reserve(symbols.size());
    std::uint32_t pos = 0;
    for (const auto& s : symbols) {
      if (s.len == 0) continue;
      pieces.push_back(Piece{s.c, pos, static_cast<std::uint32_t>(pos + s.len)});
      pos += static_cast<std::uint32_t>(s.len);
    }
    return pieces;
  }

  void merge_all(std::vector<Symbol>& symbols) const {
    struct Cand {
      std::size_t pos;
      std::uint32_t rank;
      std::int64_t new_id;
      bool operator<(const Cand& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
    };
    std::priority_queue<Cand> queue;
    for (std::size_t k = 0; k + 1 < symbols.size(); ++k) {
      auto it = merges_.find(key(symbols[k].c, symbols[k + 1].c));
      if (it != merges_.end()) queue.push(Cand{k, it->second.rank, it->second.new_id});
    }
    while (!queue.empty()) {
      const Cand top = queue.top();
      queue.pop();
      Symbol& cur = symbols[top.pos];
      if (cur.len == 0 || cur.next == -1) continue;
      const std::size_t next_pos = static_cast<std::size_t>(cur.next);
      const Symbol right = symbols[next_pos];
      auto it = merges_.find(key(cur.c, right.c));
      if (it == merges_.end() || it->second.new_id != top.new_id) continue;
      cur.c = top.new_id;
      cur.len += right.len;
      cur.next = right.next;
      symbols[next_pos].len = 0;
      if (right.next > -1 && static_cast<std::size_t>(right.next) < symbols.size())
        symbols[static_cast<std::size_t>(right.next)].prev = static_cast<std::ptrdiff_t>(top.pos);
      if (cur.prev >= 0) {
        auto pit = merges_.find(key(symbols[static_cast<std::size_t>(cur.prev)].c, cur.c));
        if (pit != merges_.end())
          queue.push(Cand{static_cast<std::size_t>(cur.prev), pit->second.rank, pit->second.new_id});
      }
      if (cur.next >= 0 && static_cast<std::size_t>(cur.next) < symbols.size()) {
        auto nit = merges_.find(key(cur.c, symbols[static_cast<std::size_t>(cur.next)].c));
        if (nit != merges_.end()) queue.push(Cand{top.pos, nit->second.rank, nit->second.new_id});
      }
    }
  }

  Vocab vocab_;
  std::vector<std::string> vocab_r_;
  BpeOptions o_;
  std::unordered_map<std::uint64_t, MergeEntry> merges_;
  std::optional<std::int64_t> unk_id_;
  mutable std::shared_mutex cache_mutex_;
  mutable std::unordered_map<std::string, std::vector<Piece>, StringHash, std::equal_to<>> cache_;
};

}  // namespace

std::unique_ptr<Model> make_bpe(Vocab vocab, const std::vector<std::pair<std::string, std::string>>& merges,
                                const BpeOptions& options) {
  return std::make_unique<Bpe>(std::move(vocab), merges, options);
}

}  // namespace ortformers::tokenizers
