#include "ortformers/core/error.hpp"
#include "ortformers/tokenizers/models.hpp"
#include "tokenizers/models/model_util.hpp"
#include "tokenizers/unicode.hpp"

namespace ortformers::tokenizers {

namespace {

class WordPiece : public Model {
 public:
  WordPiece(Vocab vocab, WordPieceOptions o) : vocab_(std::move(vocab)), o_(std::move(o)) {
    vocab_r_ = reverse_vocab(vocab_);
  }
  std::vector<Token> tokenize(std::string_view seq) const override {
    std::vector<Token> out;
    if (unicode::count_chars(seq) > o_.max_input_chars_per_word) {
      out.push_back(unk(seq.size()));
      return out;
    }
    std::string buf;
    std::size_t start = 0;
    while (start < seq.size()) {
      std::size_t end = seq.size();
      bool found = false;
      while (start < end) {
        std::string_view sub = seq.substr(start, end - start);
        if (start > 0) {
          buf.assign(o_.continuing_subword_prefix);
          buf.append(sub);
          sub = buf;
        }
        auto it = vocab_.find(sub);
        if (it != vocab_.end()) {
          out.push_back(Token{it->second, std::string(sub), {start, end}});
          found = true;
          break;
        }
        // step back one char
        std::size_t e = end - 1;
        while (e > start && (static_cast<unsigned char>(seq[e]) & 0xC0) == 0x80) --e;
        end = e;
      }
      if (!found) {
        out.clear();
        out.push_back(unk(seq.size()));
        return out;
      }
      start = end;
    }
    return out;
  }
  std::optional<std::int64_t> token_to_id(std::string_view t) const override { return lookup(vocab_, t); }
  std::optional<std::string> id_to_token(std::int64_t id) const override { return lookup_r(vocab_r_, id); }
  std::size_t vocab_size() const override { return vocab_.size(); }
  std::string type() const override { return "WordPiece"; }

 private:
  Token unk(std::size_t len) const {
    auto it = vocab_.find(o_.unk_token);
    if (it == vocab_.end())
      throw InvalidArgument("WordPiece: unk token '" + o_.unk_token + "' is not in the vocabulary");
    return Token{it->second, o_.unk_token, {0, len}};
  }
  Vocab vocab_;
  std::vector<std::string> vocab_r_;
  WordPieceOptions o_;
};

}  // namespace

std::unique_ptr<Model> make_wordpiece(Vocab vocab, const WordPieceOptions& options) {
  return std::make_unique<WordPiece>(std::move(vocab), options);
}

}  // namespace ortformers::tokenizers
