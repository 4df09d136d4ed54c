#pragma once
// UTF-8 helpers with Python's str semantics (code-point indexing, str.isspace, strip/split).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ortformers::chat_template::detail {

std::vector<char32_t> decode_utf8(std::string_view s);  // invalid bytes decode to U+FFFD
std::string encode_utf8(const std::vector<char32_t>& cps);
void append_utf8(std::string& out, char32_t cp);
std::size_t count_code_points(std::string_view s);
bool is_python_space(char32_t cp);

enum class StripSide { Both, Left, Right };
// str.strip() / lstrip() / rstrip(); `chars` empty with use_chars false = whitespace.
std::string py_strip(std::string_view s, StripSide side, bool use_chars = false, std::string_view chars = {});
std::vector<std::string> py_split(std::string_view s, bool use_sep, std::string_view sep, std::int64_t maxsplit);
std::string py_replace(std::string_view s, std::string_view old_s, std::string_view new_s, std::int64_t count);
// Case mappings on ASCII letters; UnsupportedError (via fail) when the text holds a cased non-ASCII letter.
std::string py_upper(std::string_view s, const char* what);
std::string py_lower(std::string_view s, const char* what);
std::string py_capitalize(std::string_view s, const char* what);
std::string py_title(std::string_view s, const char* what);     // str.title()
std::string jinja_title(std::string_view s, const char* what);  // the `title` filter

}  // namespace ortformers::chat_template::detail
