#pragma once
// Filters, tests, globals and methods of the chat-template engine.
#include <string>

#include "chat_template/value.hpp"

namespace ortformers::chat_template::detail {

// Jinja has a filter / test of this name (unknown names are a syntax error, as jinja's TemplateAssertionError).
bool jinja_has_filter(const std::string& name);
bool jinja_has_test(const std::string& name);
// This engine implements it (a jinja filter / test it does not implement is an UnsupportedError at parse time).
bool filter_supported(const std::string& name);
bool test_supported(const std::string& name);

Value apply_filter(Interpreter& in, const std::string& name, const Value& subject, CallArgs& args);
bool apply_test(Interpreter& in, const std::string& name, const Value& subject, CallArgs& args);
// obj.name as jinja's sandboxed getattr: a method, a dict item, or Undefined.
Value get_attribute(const Value& obj, const std::string& name);
// obj[key] as jinja's getitem: an item, a method (for string keys), or Undefined.
Value get_item(const Value& obj, const Value& key);
// The template globals: raise_exception, range, dict, namespace, strftime_now, ...
Dict make_globals();

}  // namespace ortformers::chat_template::detail
