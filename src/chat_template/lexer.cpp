#include "chat_template/lexer.hpp"

#include <cctype>
#include <cerrno>
#include <cstdlib>

#include "chat_template/text.hpp"
#include "ortformers/chat_template/chat_template.hpp"

namespace ortformers::chat_template::detail {

namespace {

[[noreturn]] void syntax_error(const std::string& what, int line) {
  throw TemplateSyntaxError("chat template syntax error at line " + std::to_string(line) + ": " + what, line);
}

bool is_space_ascii(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

// Python's rstrip(): removes trailing whitespace (Unicode whitespace included).
std::string rstrip_ws(std::string_view s) {
  return py_strip(s, StripSide::Right);
}

// Length of the Python whitespace (\s) run at the start of s.
std::size_t whitespace_prefix(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if (!is_python_space(c)) break;
      ++i;
      continue;
    }
    // decode one multi-byte code point
    std::size_t len = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 1;
    if (i + len > s.size()) break;
    const auto cps = decode_utf8(s.substr(i, len));
    if (cps.size() != 1 || !is_python_space(cps[0])) break;
    i += len;
  }
  return i;
}

class Lexer {
 public:
  explicit Lexer(std::string src) : src_(std::move(src)) {}

  std::vector<Token> run() {
    std::size_t pos = 0;
    while (pos < src_.size()) {
      std::size_t p = pos;
      char kind = 0;
      while (true) {
        p = src_.find('{', p);
        if (p == std::string::npos || p + 1 >= src_.size()) {
          p = std::string::npos;
          break;
        }
        const char k = src_[p + 1];
        if (k == '{' || k == '%' || k == '#') {
          kind = k;
          break;
        }
        ++p;
      }
      if (p == std::string::npos) {
        emit_data(src_.substr(pos), pos);
        break;
      }
      std::string text = src_.substr(pos, p - pos);
      const char sign = p + 2 < src_.size() && (src_[p + 2] == '-' || src_[p + 2] == '+') ? src_[p + 2] : 0;
      const bool line_starting = pos == 0 || src_[pos - 1] == '\n';
      if (sign == '-') {
        text = rstrip_ws(text);
      } else if (sign != '+' && kind != '{') {
        // lstrip_blocks: drop spaces/tabs between the start of the line and a block or comment tag.
        const auto nl = text.rfind('\n');
        const std::size_t l_pos = nl == std::string::npos ? 0 : nl + 1;
        if (l_pos > 0 || line_starting) {
          bool only_blank = true;
          for (std::size_t i = l_pos; i < text.size(); ++i)
            if (text[i] != ' ' && text[i] != '\t') only_blank = false;
          if (only_blank) text.resize(l_pos);
        }
      }
      emit_data(text, pos);
      const int tag_line = line_at(p);
      std::size_t q = p + 2 + (sign ? 1 : 0);
      if (kind == '#') {
        const auto e = src_.find("#}", q);
        if (e == std::string::npos) syntax_error("missing end of comment tag", tag_line);
        pos = after_tag_end(e + 2, e > q && src_[e - 1] == '-');
        continue;
      }
      const bool block = kind == '%';
      tokens_.push_back(Token{block ? TokenType::BlockBegin : TokenType::VariableBegin, "", tag_line});
      if (block) check_raw(q, tag_line);
      pos = lex_tag(q, block, tag_line);
    }
    tokens_.push_back(Token{TokenType::End, "", line_at(src_.size())});
    return std::move(tokens_);
  }

 private:
  int line_at(std::size_t pos) {
    // positions only move forward (a tag's tokens after its text), so count incrementally
    if (pos < line_pos_) {
      line_pos_ = 0;
      line_ = 1;
    }
    for (; line_pos_ < pos && line_pos_ < src_.size(); ++line_pos_)
      if (src_[line_pos_] == '\n') ++line_;
    return line_;
  }

  void emit_data(const std::string& text, std::size_t pos) {
    if (!text.empty()) tokens_.push_back(Token{TokenType::Data, text, line_at(pos)});
  }

  // After a tag's closing delimiter at `end`: `-` eats all following whitespace; otherwise trim_blocks eats one
  // newline after block and comment tags.
  std::size_t after_tag_end(std::size_t end, bool minus, bool trim = true) {
    if (minus) return end + whitespace_prefix(std::string_view(src_).substr(end));
    if (trim && end < src_.size() && src_[end] == '\n') return end + 1;
    return end;
  }

  void check_raw(std::size_t q, int line) {
    std::size_t i = q;
    while (i < src_.size() && is_space_ascii(src_[i])) ++i;
    if (src_.compare(i, 3, "raw") == 0 &&
        (i + 3 >= src_.size() || !(std::isalnum(static_cast<unsigned char>(src_[i + 3])) || src_[i + 3] == '_')))
      throw UnsupportedError("chat template: the tag {% raw %} at line " + std::to_string(line) +
                             " is not supported by the chat-template engine");
  }

  std::size_t lex_tag(std::size_t i, bool block, int tag_line) {
    const std::string_view s(src_);
    while (true) {
      while (i < s.size() && is_space_ascii(s[i])) ++i;
      if (i >= s.size())
        syntax_error(std::string("unexpected end of template, expected '") + (block ? "%}" : "}}") + "'", tag_line);
      const int line = line_at(i);
      const char* close = block ? "%}" : "}}";
      if (s[i] == '-' && s.compare(i + 1, 2, close) == 0) {
        tokens_.push_back(Token{block ? TokenType::BlockEnd : TokenType::VariableEnd, "", line});
        return after_tag_end(i + 3, true);
      }
      if (s.compare(i, 2, close) == 0) {
        tokens_.push_back(Token{block ? TokenType::BlockEnd : TokenType::VariableEnd, "", line});
        return after_tag_end(i + 2, false, block);
      }
      const char c = s[i];
      if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
        std::size_t j = i;
        while (j < s.size() && (std::isalnum(static_cast<unsigned char>(s[j])) || s[j] == '_')) ++j;
        tokens_.push_back(Token{TokenType::Name, std::string(s.substr(i, j - i)), line});
        i = j;
      } else if (std::isdigit(static_cast<unsigned char>(c))) {
        i = lex_number(i, line);
      } else if (c == '\'' || c == '"') {
        i = lex_string(i, line);
      } else {
        static const char* const ops[] = {"//", "**", "==", "!=", ">=", "<=", "+", "-", "*", "/", "%", "~", "<",
                                          ">",  "=",  "(",  ")",  "[",  "]",  "{", "}", ",", ".", ":", "|", ";"};
        bool found = false;
        for (const char* op : ops) {
          const std::size_t n = std::char_traits<char>::length(op);
          if (s.compare(i, n, op) == 0) {
            tokens_.push_back(Token{TokenType::Operator, op, line});
            i += n;
            found = true;
            break;
          }
        }
        if (!found) {
          std::string shown(1, c);
          if (static_cast<unsigned char>(c) >= 0x80) shown = "non-ASCII character";
          syntax_error("unexpected char '" + shown + "'", line);
        }
      }
    }
  }

  std::size_t lex_number(std::size_t i, int line) {
    const std::string_view s(src_);
    std::string digits;
    auto take_digits = [&](std::size_t& j) {
      const std::size_t start = j;
      while (j < s.size() &&
             (std::isdigit(static_cast<unsigned char>(s[j])) ||
              (s[j] == '_' && j + 1 < s.size() && std::isdigit(static_cast<unsigned char>(s[j + 1])) && j > start))) {
        if (s[j] != '_') digits += s[j];
        ++j;
      }
    };
    std::size_t j = i;
    take_digits(j);
    bool is_float = false;
    if (j + 1 < s.size() && s[j] == '.' && std::isdigit(static_cast<unsigned char>(s[j + 1]))) {
      is_float = true;
      digits += '.';
      ++j;
      take_digits(j);
    }
    if (j < s.size() && (s[j] == 'e' || s[j] == 'E')) {
      std::size_t k = j + 1;
      if (k < s.size() && (s[k] == '+' || s[k] == '-')) ++k;
      if (k < s.size() && std::isdigit(static_cast<unsigned char>(s[k]))) {
        is_float = true;
        digits += 'e';
        if (s[j + 1] == '-') digits += '-';
        j = k;
        take_digits(j);
      }
    }
    Token t{is_float ? TokenType::Float : TokenType::Integer, digits, line};
    if (is_float) {
      t.float_value = std::strtod(digits.c_str(), nullptr);
    } else {
      errno = 0;
      const long long v = std::strtoll(digits.c_str(), nullptr, 10);
      if (errno == ERANGE)
        throw UnsupportedError("chat template: the integer literal " + digits + " at line " + std::to_string(line) +
                               " is too large for the chat-template engine");
      t.int_value = v;
    }
    tokens_.push_back(std::move(t));
    return j;
  }

  std::size_t lex_string(std::size_t i, int line) {
    const std::string_view s(src_);
    const char q = s[i];
    std::string out;
    std::size_t j = i + 1;
    auto hex = [&](std::size_t n) -> char32_t {
      if (j + n > s.size()) syntax_error("truncated escape in string literal", line);
      char32_t v = 0;
      for (std::size_t k = 0; k < n; ++k) {
        const char h = s[j + k];
        int d = -1;
        if (h >= '0' && h <= '9') d = h - '0';
        if (h >= 'a' && h <= 'f') d = h - 'a' + 10;
        if (h >= 'A' && h <= 'F') d = h - 'A' + 10;
        if (d < 0) syntax_error("truncated escape in string literal", line);
        v = v * 16 + static_cast<char32_t>(d);
      }
      j += n;
      return v;
    };
    while (true) {
      if (j >= s.size()) syntax_error("unterminated string literal", line);
      const char c = s[j];
      if (c == q) break;
      if (c != '\\') {
        out += c;
        ++j;
        continue;
      }
      if (j + 1 >= s.size()) syntax_error("unterminated string literal", line);
      const char e = s[j + 1];
      j += 2;
      switch (e) {
        case '\n': break;
        case '\\': out += '\\'; break;
        case '\'': out += '\''; break;
        case '"': out += '"'; break;
        case 'a': out += '\a'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'v': out += '\v'; break;
        case 'x': append_utf8(out, hex(2)); break;
        case 'u': append_utf8(out, hex(4)); break;
        case 'U': {
          const char32_t cp = hex(8);
          if (cp > 0x10FFFF) syntax_error("illegal Unicode character in string literal", line);
          append_utf8(out, cp);
          break;
        }
        case 'N':
          throw UnsupportedError("chat template: the \\N{...} escape at line " + std::to_string(line) +
                                 " is not supported by the chat-template engine");
        default:
          if (e >= '0' && e <= '7') {
            char32_t v = static_cast<char32_t>(e - '0');
            for (int k = 0; k < 2 && j < s.size() && s[j] >= '0' && s[j] <= '7'; ++k, ++j)
              v = v * 8 + static_cast<char32_t>(s[j] - '0');
            append_utf8(out, v);
          } else {
            out += '\\';
            out += e;
          }
      }
    }
    tokens_.push_back(Token{TokenType::String, out, line});
    return j + 1;
  }

  std::string src_;
  std::vector<Token> tokens_;
  std::size_t line_pos_ = 0;
  int line_ = 1;
};

}  // namespace

std::vector<Token> tokenize(std::string_view source) {
  // Jinja normalises \r\n and \r to \n, and drops one trailing newline (keep_trailing_newline=False).
  std::string src;
  src.reserve(source.size());
  for (std::size_t i = 0; i < source.size(); ++i) {
    if (source[i] == '\r') {
      src += '\n';
      if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
    } else {
      src += source[i];
    }
  }
  if (!src.empty() && src.back() == '\n') src.pop_back();
  return Lexer(std::move(src)).run();
}

}  // namespace ortformers::chat_template::detail
