#pragma once
// Pre-tokenizers (tokenizers.pre_tokenizers): BertPreTokenizer, Whitespace, WhitespaceSplit, ByteLevel, Metaspace,
// Split, Punctuation, Digits, CharDelimiterSplit, UnicodeScripts, Sequence.
#include <memory>
#include <string>

#include "ortformers/core/json.hpp"
#include "ortformers/tokenizers/normalized_string.hpp"

namespace ortformers::tokenizers {

class PreTokenizer {
 public:
  virtual ~PreTokenizer() = default;
  virtual void pre_tokenize(PreTokenizedString& s) const = 0;
};

std::unique_ptr<PreTokenizer> pre_tokenizer_from_json(const Json& j);
std::unique_ptr<PreTokenizer> make_bert_pre_tokenizer();
std::unique_ptr<PreTokenizer> make_byte_level_pre_tokenizer(bool add_prefix_space, bool use_regex = true);
// prepend_scheme: "always", "first", "never"
std::unique_ptr<PreTokenizer> make_metaspace_pre_tokenizer(char32_t replacement, const std::string& prepend_scheme,
                                                           bool split);

// The GPT-2 byte <-> unicode char table of the ByteLevel components.
const std::string& byte_to_unicode(unsigned char b);  // UTF-8 of the char standing for byte b
int unicode_to_byte(char32_t c);                      // -1 when c is not in the table

}  // namespace ortformers::tokenizers
