#pragma once
// Renders a parsed template: scopes, loops, macros, expression evaluation, with bounded steps and depth.
#include <string>
#include <vector>

#include "chat_template/ast.hpp"

namespace ortformers::chat_template::detail {

struct Interpreter {
  Interpreter(const Limits& limits, Dict globals, Dict variables);

  std::string render(const Body& body);

  Value eval(const Expr& e);
  Value call(const Value& callee, CallArgs& args, int line);
  void step();                         // counts one step; fails past Limits::max_steps
  void check_size(std::size_t bytes);  // fails past Limits::max_string_bytes
  int line() const { return line_; }

 private:
  enum class Flow { Normal, Break, Continue };
  using Frame = std::vector<std::pair<std::string, Value>>;

  Flow exec(const Body& body, std::string& out);
  Flow exec_for(const Stmt& s, std::string& out);
  void assign(const std::string& name, Value v);
  Value lookup(const std::string& name) const;
  Value call_macro(const std::shared_ptr<MacroDef>& def, CallArgs& args);
  Value eval_binary(const Expr& e);
  Value eval_compare(const Expr& e);
  void emit(std::string& out, const std::string& s);

  const Limits& limits_;
  std::vector<Frame> frames_;  // [0] globals, [1] variables, [2] template top level, then loops / macro calls
  std::size_t steps_ = 0;
  std::size_t depth_ = 0;
  int line_ = 0;
};

// Iterating a value as Python's `for` does: list / tuple items, dict keys, string characters; Undefined is empty.
std::vector<Value> iterate(const Value& v);

}  // namespace ortformers::chat_template::detail
