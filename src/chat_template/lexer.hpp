#pragma once
// Jinja's lexer with the settings transformers uses (trim_blocks, lstrip_blocks, no trailing newline kept):
// template text becomes Data tokens with whitespace control applied, tags become Begin/End tokens around the
// expression tokens inside them.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ortformers::chat_template::detail {

enum class TokenType {
  Data,
  VariableBegin,
  VariableEnd,
  BlockBegin,
  BlockEnd,
  Name,
  String,
  Integer,
  Float,
  Operator,
  End
};

struct Token {
  TokenType type;
  std::string text;  // Data: the text; Name / Operator: the spelling; String: the decoded value
  int line = 1;
  std::int64_t int_value = 0;
  double float_value = 0;
};

// TemplateSyntaxError on an unterminated tag, comment or string, or an unknown character inside a tag.
std::vector<Token> tokenize(std::string_view source);

}  // namespace ortformers::chat_template::detail
