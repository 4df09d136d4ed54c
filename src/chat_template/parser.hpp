#pragma once
#include <string_view>

#include "chat_template/ast.hpp"

namespace ortformers::chat_template::detail {

// Parses a template: TemplateSyntaxError on a syntax error, UnsupportedError on a construct outside the subset.
Body parse_template(std::string_view source, std::size_t max_depth);

}  // namespace ortformers::chat_template::detail
