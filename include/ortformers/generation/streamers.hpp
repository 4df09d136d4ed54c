#pragma once
// Streamers as transformers 4.31's generation/streamers.py: generate() calls put() with the prompt first, then with
// each new token, and end() once. TextStreamer prints text as it becomes final.
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <span>
#include <string>
#include <vector>

namespace ortformers::tokenizers {
class PreTrainedTokenizer;
}

namespace ortformers::generation {

class BaseStreamer {
 public:
  virtual ~BaseStreamer() = default;
  // Token ids of one row: the prompt at the first call, then one token per call.
  virtual void put(std::span<const std::int64_t> value) = 0;
  virtual void end() = 0;
};

// transformers' TextStreamer: decodes the tokens since the last flush, prints up to the last space (whole words),
// prints at once after a newline or a CJK character, holds back text that ends in U+FFFD (an incomplete UTF-8
// sequence of byte-fallback tokens), flushes the rest at end() followed by a newline. skip_prompt skips the first
// put(). Output goes to on_finalized_text (default: the ostream given, std::cout if none).
class TextStreamer : public BaseStreamer {
 public:
  explicit TextStreamer(const tokenizers::PreTrainedTokenizer& tokenizer, bool skip_prompt = false,
                        bool skip_special_tokens = false, std::ostream* out = nullptr);
  void put(std::span<const std::int64_t> value) override;
  void end() override;
  virtual void on_finalized_text(const std::string& text, bool stream_end);

 private:
  const tokenizers::PreTrainedTokenizer& tokenizer_;
  bool skip_prompt_;
  bool skip_special_tokens_;
  std::ostream* out_;
  std::vector<std::int64_t> token_cache_;
  std::size_t print_len_ = 0;  // in code points, as Python's str indices
  bool next_tokens_are_prompt_ = true;
};

// A TextStreamer that hands each piece to a callback instead of printing (stream_end marks the last piece).
class CallbackTextStreamer : public TextStreamer {
 public:
  using Callback = std::function<void(const std::string& text, bool stream_end)>;
  CallbackTextStreamer(const tokenizers::PreTrainedTokenizer& tokenizer, Callback callback, bool skip_prompt = false,
                       bool skip_special_tokens = false)
      : TextStreamer(tokenizer, skip_prompt, skip_special_tokens), callback_(std::move(callback)) {}
  void on_finalized_text(const std::string& text, bool stream_end) override { callback_(text, stream_end); }

 private:
  Callback callback_;
};

// The printable prefix TextStreamer would emit for `text` (UTF-8) given `print_len` code points already printed:
// returns the new piece and advances print_len. Exposed for tests and incremental decoders.
std::string text_streamer_printable(const std::string& text, std::size_t& print_len, bool& flush_cache);

}  // namespace ortformers::generation
