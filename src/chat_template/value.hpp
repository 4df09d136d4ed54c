#pragma once
// The values a chat template computes with: Python's None / bool / int / float / str / list / tuple / dict, jinja2's
// Undefined, namespace() objects and callables (globals, macros, bound methods).
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ortformers/chat_template/chat_template.hpp"

namespace ortformers::chat_template::detail {

class Value;
struct Interpreter;

struct Dict {
  std::vector<std::pair<std::string, Value>> items;
  const Value* find(const std::string& key) const;
  Value* find(const std::string& key);
  void set(const std::string& key, Value v);
};

// Positional and keyword arguments of a call.
struct CallArgs {
  std::vector<Value> args;
  std::vector<std::pair<std::string, Value>> kwargs;
};

struct Callable {
  std::string name;
  std::function<Value(Interpreter&, CallArgs&)> fn;
};

class Value {
 public:
  enum class Kind { Undefined, None, Bool, Int, Float, String, List, Tuple, Dict, Namespace, Callable };

  Value() = default;  // Undefined
  static Value undefined(std::string hint = {});
  static Value none();
  static Value boolean(bool b);
  static Value integer(std::int64_t i);
  static Value floating(double d);
  static Value string(std::string s);
  static Value list(std::vector<Value> items = {});
  static Value tuple(std::vector<Value> items);
  static Value dict(Dict d = {});
  static Value ns(Dict d = {});
  static Value callable(std::string name, std::function<Value(Interpreter&, CallArgs&)> fn);
  static Value from_json(const OrderedJson& j);

  Kind kind() const { return kind_; }
  bool is_undefined() const { return kind_ == Kind::Undefined; }
  bool is_none() const { return kind_ == Kind::None; }
  bool is_bool() const { return kind_ == Kind::Bool; }
  bool is_int() const { return kind_ == Kind::Int || kind_ == Kind::Bool; }  // Python: bool is an int
  bool is_number() const { return kind_ == Kind::Int || kind_ == Kind::Float || kind_ == Kind::Bool; }
  bool is_string() const { return kind_ == Kind::String; }
  bool is_sequence() const { return kind_ == Kind::List || kind_ == Kind::Tuple; }
  bool is_dict() const { return kind_ == Kind::Dict; }

  bool as_bool() const { return b_; }
  std::int64_t as_int() const { return kind_ == Kind::Bool ? (b_ ? 1 : 0) : i_; }
  double as_double() const { return kind_ == Kind::Float ? d_ : static_cast<double>(as_int()); }
  const std::string& str() const { return s_; }  // String; for Undefined: the hint naming what was missing
  const std::vector<Value>& items() const { return *list_; }
  std::vector<Value>& items() { return *list_; }
  const Dict& dict_value() const { return *dict_; }
  Dict& dict_value() { return *dict_; }
  const Callable& callable_value() const { return *fn_; }

  // Python's type name: "str", "int", "NoneType", "list", "dict", "Undefined", ...
  std::string type_name() const;

 private:
  Kind kind_ = Kind::Undefined;
  bool b_ = false;
  std::int64_t i_ = 0;
  double d_ = 0;
  std::string s_;
  std::shared_ptr<std::vector<Value>> list_;
  std::shared_ptr<Dict> dict_;
  std::shared_ptr<Callable> fn_;
};

// Internal error carrying the Python exception type; converted to the public classes at the API boundary.
struct RenderFailure {
  std::string type;  // "TemplateError", "TypeError", "UndefinedError", "Unsupported", ...
  std::string message;
};
[[noreturn]] void fail(std::string type, std::string message);
[[noreturn]] void fail_undefined(const Value& v);

bool truthy(const Value& v);
std::string to_str(const Value& v);   // Python str() (jinja prints values this way)
std::string to_repr(const Value& v);  // Python repr()
std::string float_repr(double d);     // Python repr(float)
bool equals(const Value& a, const Value& b);
int compare(const Value& a, const Value& b, const char* op);  // <0, 0, >0; TypeError when not orderable
bool contains(const Value& container, const Value& item);
std::size_t length(const Value& v);  // len(); TypeError when unsized

struct JsonOptions {
  std::optional<std::string> indent;  // nullopt: no newlines
  std::string item_separator = ", ";
  std::string key_separator = ": ";
  bool sort_keys = false;
};
// json.dumps(v, ensure_ascii=False, ...).
std::string to_json(const Value& v, const JsonOptions& options);

}  // namespace ortformers::chat_template::detail
