// SentencePiece's BPE model (sentencepiece bpe_model.cc) on the pieces of a .model file: the normalized text is split
// into characters (user-defined pieces are matched whole and never merged), then the adjacent pair whose
// concatenation is the piece with the highest score is merged, again and again (ties: the leftmost pair); a merged
// piece of type UNUSED is split back into the two pieces it was made of. A character that is no piece is the
// unknown piece; with byte_fallback it becomes its UTF-8 bytes as the <0xNN> pieces, without it a run of unknown
// characters is one unknown token (sentencepiece_processor.cc PopulateSentencePieceText).
#include <algorithm>
#include <cstdio>
#include <queue>
#include <unordered_map>

#include "ortformers/core/error.hpp"
#include "ortformers/tokenizers/models.hpp"
#include "tokenizers/models/model_util.hpp"
#include "tokenizers/sentencepiece_model.hpp"

namespace ortformers::tokenizers {

namespace {

// sentencepiece string_util::OneCharLen: the length a lead byte announces (a stray continuation byte counts as 1).
std::size_t one_char_len(unsigned char c) {
  static constexpr std::size_t kLen[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
  return kLen[c >> 4];
}

class SentencePieceBpe : public Model {
 public:
  SentencePieceBpe(std::vector<SpmModel::Piece> pieces, bool byte_fallback)
      : pieces_(std::move(pieces)), byte_fallback_(byte_fallback) {
    if (pieces_.empty()) throw FileFormatError("SentencePiece BPE model: no pieces");
    for (std::size_t i = 0; i < pieces_.size(); ++i) {
      const auto& p = pieces_[i];
      const auto id = static_cast<std::int64_t>(i);
      const bool normal =
          p.type == SpmModel::kNormal || p.type == SpmModel::kUserDefined || p.type == SpmModel::kUnused;
      // The first definition of a piece wins, as in ModelInterface::InitializePieces (which rejects duplicates).
      (normal ? normal_ : reserved_).emplace(p.piece, id);
      if (p.type == SpmModel::kUserDefined && !p.piece.empty()) user_defined_.push_back(p.piece);
      if (p.type == SpmModel::kUnknown && !unk_id_) unk_id_ = id;
    }
    if (!unk_id_) throw FileFormatError("SentencePiece BPE model: no piece of type UNKNOWN");
    if (byte_fallback_) {
      char code[8];
      for (int b = 0; b < 256; ++b) {
        std::snprintf(code, sizeof(code), "<0x%02X>", b);
        auto it = reserved_.find(std::string_view(code));
        if (it == reserved_.end() || pieces_[static_cast<std::size_t>(it->second)].type != SpmModel::kByte)
          throw FileFormatError(std::string("SentencePiece BPE model: byte_fallback is set but the byte piece ") +
                                code + " is missing");
        byte_ids_[static_cast<std::size_t>(b)] = it->second;
      }
    }
    // Longest user-defined pieces first.
    std::sort(user_defined_.begin(), user_defined_.end(),
              [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  }

  std::vector<Token> tokenize(std::string_view s) const override {
    std::vector<Token> out;
    if (s.empty()) return out;
    struct Symbol {
      std::size_t begin, size;
      std::ptrdiff_t prev, next;
      bool freeze;
    };
    std::vector<Symbol> symbols;
    for (std::size_t pos = 0; pos < s.size();) {
      std::size_t len = 0;
      bool freeze = false;
      for (const auto& u : user_defined_)
        if (s.compare(pos, u.size(), u) == 0) {
          len = u.size();
          freeze = true;
          break;
        }
      if (!len) len = std::min(one_char_len(static_cast<unsigned char>(s[pos])), s.size() - pos);
      const auto index = static_cast<std::ptrdiff_t>(symbols.size());
      symbols.push_back({pos, len, index - 1, pos + len < s.size() ? index + 1 : -1, freeze});
      pos += len;
    }

    struct Pair {
      std::ptrdiff_t left, right;
      float score;
      std::size_t size;
    };
    // Highest score first; on equal scores the leftmost pair (bpe_model.cc SymbolPairComparator).
    auto worse = [](const Pair& a, const Pair& b) {
      return a.score < b.score || (a.score == b.score && a.left > b.left);
    };
    std::priority_queue<Pair, std::vector<Pair>, decltype(worse)> agenda(worse);
    std::unordered_map<std::string_view, std::pair<std::string_view, std::string_view>> rev_merge;
    auto maybe_add = [&](std::ptrdiff_t left, std::ptrdiff_t right) {
      if (left < 0 || right < 0) return;
      const Symbol& l = symbols[static_cast<std::size_t>(left)];
      const Symbol& r = symbols[static_cast<std::size_t>(right)];
      if (l.freeze || r.freeze) return;
      const std::string_view piece = s.substr(l.begin, l.size + r.size);
      auto it = normal_.find(piece);
      if (it == normal_.end()) return;
      const auto& p = pieces_[static_cast<std::size_t>(it->second)];
      agenda.push({left, right, p.score, piece.size()});
      if (p.type == SpmModel::kUnused) rev_merge[piece] = {s.substr(l.begin, l.size), s.substr(r.begin, r.size)};
    };
    for (std::size_t i = 1; i < symbols.size(); ++i)
      maybe_add(static_cast<std::ptrdiff_t>(i - 1), static_cast<std::ptrdiff_t>(i));
    while (!agenda.empty()) {
      const Pair top = agenda.top();
      agenda.pop();
      Symbol& l = symbols[static_cast<std::size_t>(top.left)];
      Symbol& r = symbols[static_cast<std::size_t>(top.right)];
      // Stale: one side was merged away or grew since the pair was queued.
      if (l.size == 0 || r.size == 0 || l.size + r.size != top.size || l.next != top.right) continue;
      l.size += r.size;
      l.next = r.next;
      if (r.next >= 0) symbols[static_cast<std::size_t>(r.next)].prev = top.left;
      r.size = 0;
      maybe_add(l.prev, top.left);
      maybe_add(top.left, l.next);
    }

    // (piece text, id, begin offset) of every final symbol, UNUSED pieces split back.
    struct Out {
      std::string_view w;
      std::int64_t id;
    };
    std::vector<Out> result;
    auto resegment = [&](auto&& self, std::string_view w) -> void {
      const std::int64_t id = piece_to_id(w);
      if (pieces_[static_cast<std::size_t>(id)].type == SpmModel::kUnused) {
        auto it = rev_merge.find(w);
        if (it != rev_merge.end()) {
          self(self, it->second.first);
          self(self, it->second.second);
          return;
        }
      }
      result.push_back({w, id});
    };
    for (std::ptrdiff_t i = 0; i >= 0; i = symbols[static_cast<std::size_t>(i)].next) {
      const Symbol& sym = symbols[static_cast<std::size_t>(i)];
      resegment(resegment, s.substr(sym.begin, sym.size));
    }

    out.reserve(result.size());
    bool prev_unk = false;
    for (const auto& [w, id] : result) {
      const std::size_t begin = static_cast<std::size_t>(w.data() - s.data());
      const bool unk = pieces_[static_cast<std::size_t>(id)].type == SpmModel::kUnknown;
      if (unk && byte_fallback_) {
        for (std::size_t k = 0; k < w.size(); ++k) {
          const std::int64_t bid = byte_ids_[static_cast<unsigned char>(w[k])];
          out.push_back(Token{bid, pieces_[static_cast<std::size_t>(bid)].piece, {begin + k, begin + k + 1}});
        }
        prev_unk = false;
        continue;
      }
      if (unk && prev_unk) {  // a run of unknown characters is one unknown token
        out.back().value += std::string(w);
        out.back().offsets.second = begin + w.size();
        continue;
      }
      out.push_back(
          Token{id, unk ? std::string(w) : pieces_[static_cast<std::size_t>(id)].piece, {begin, begin + w.size()}});
      prev_unk = unk;
    }
    return out;
  }

  std::optional<std::int64_t> token_to_id(std::string_view t) const override {
    if (auto it = reserved_.find(t); it != reserved_.end()) return it->second;
    if (auto it = normal_.find(t); it != normal_.end()) return it->second;
    return std::nullopt;
  }
  std::optional<std::string> id_to_token(std::int64_t id) const override {
    if (id < 0 || static_cast<std::size_t>(id) >= pieces_.size()) return std::nullopt;
    return pieces_[static_cast<std::size_t>(id)].piece;
  }
  std::size_t vocab_size() const override { return pieces_.size(); }
  std::string type() const override { return "SentencePieceBPE"; }

 private:
  // ModelInterface::PieceToId: reserved (control, unknown, byte) pieces first, then the others, else unknown.
  std::int64_t piece_to_id(std::string_view w) const {
    if (auto id = token_to_id(w)) return *id;
    return *unk_id_;
  }
  std::vector<SpmModel::Piece> pieces_;
  bool byte_fallback_;
  Vocab normal_, reserved_;
  std::vector<std::string> user_defined_;
  std::optional<std::int64_t> unk_id_;
  std::int64_t byte_ids_[256] = {};
};

}  // namespace

std::unique_ptr<Model> make_sentencepiece_bpe(std::vector<SpmModel::Piece> pieces, bool byte_fallback) {
  return std::make_unique<SentencePieceBpe>(std::move(pieces), byte_fallback);
}

}  // namespace ortformers::tokenizers
