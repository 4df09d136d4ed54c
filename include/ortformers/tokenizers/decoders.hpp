#pragma once
// Decoders (tokenizers.decoders): WordPiece, ByteLevel, Metaspace, BPEDecoder, ByteFallback, Fuse, Strip, Replace,
// CTC, Sequence.
#include <memory>
#include <string>
#include <vector>

#include "ortformers/core/json.hpp"

namespace ortformers::tokenizers {

class Decoder {
 public:
  virtual ~Decoder() = default;
  virtual std::vector<std::string> decode_chain(std::vector<std::string> tokens) const = 0;
  std::string decode(std::vector<std::string> tokens) const;
};

std::unique_ptr<Decoder> decoder_from_json(const Json& j);
std::unique_ptr<Decoder> make_wordpiece_decoder(const std::string& prefix = "##", bool cleanup = true);
std::unique_ptr<Decoder> make_byte_level_decoder();
std::unique_ptr<Decoder> make_metaspace_decoder(char32_t replacement, const std::string& prepend_scheme, bool split);
// transformers' clean_up_tokenization (also the WordPiece decoder's cleanup)
std::string clean_up_tokenization(const std::string& text);

}  // namespace ortformers::tokenizers
