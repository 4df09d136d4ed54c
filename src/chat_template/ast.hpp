#pragma once
// The parsed template: expression and statement trees.
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "chat_template/value.hpp"

namespace ortformers::chat_template::detail {

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
  enum class Kind {
    Literal,     // value
    Name,        // name
    List,        // children
    Tuple,       // children
    Dict,        // children: key, value, key, value...
    Attribute,   // children[0] . name
    Item,        // children[0] [ children[1] ]
    Slice,       // children[0] [ children[1] : children[2] : children[3] ] (null = omitted)
    Call,        // children[0] ( args, kwargs )
    Filter,      // children[0] | name ( args, kwargs )
    Test,        // children[0] is [not] name ( args )
    Unary,       // op children[0]     (op: "-", "+", "not")
    Binary,      // children[0] op children[1]  (+ - * / // % ** ~ and or)
    Compare,     // children[0] ops[i] children[i+1] ...
    Conditional  // children[1] if children[0] else children[2] (null)
  };
  Kind kind = Kind::Literal;
  int line = 0;
  std::string name;      // Name / Attribute / Filter / Test / operator of Unary, Binary
  Value value;           // Literal
  bool negated = false;  // Test
  std::vector<ExprPtr> children;
  std::vector<ExprPtr> args;
  std::vector<std::pair<std::string, ExprPtr>> kwargs;
  std::vector<std::string> ops;  // Compare
};

struct Stmt;
using Body = std::vector<std::unique_ptr<Stmt>>;

struct MacroDef {
  std::string name;
  std::vector<std::string> params;
  std::vector<ExprPtr> defaults;  // aligned to the last params
  Body body;
};

struct Stmt {
  enum class Kind { Text, Output, If, For, Set, SetBlock, Macro, Break, Continue, Block };
  Kind kind = Kind::Text;
  int line = 0;
  std::string text;  // Text
  ExprPtr expr;      // Output / Set value / For iterable
  // If: conditions[i] guards bodies[i]; a trailing extra body is the else branch.
  std::vector<ExprPtr> conditions;
  std::vector<Body> bodies;
  // For
  std::vector<std::string> targets;
  ExprPtr filter;  // for ... if filter
  Body body;       // For body, SetBlock body, Block body
  Body else_body;  // For else
  // Set: target name, or namespace attribute target.attr
  std::string target;
  std::string attribute;
  std::vector<std::string> tuple_targets;  // set a, b = ...
  std::shared_ptr<MacroDef> macro;
};

}  // namespace ortformers::chat_template::detail
