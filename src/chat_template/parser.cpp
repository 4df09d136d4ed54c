#include "chat_template/parser.hpp"

#include <algorithm>
#include <set>

#include "chat_template/builtins.hpp"
#include "chat_template/lexer.hpp"

namespace ortformers::chat_template::detail {

namespace {

[[noreturn]] void syntax_error(const std::string& what, int line) {
  throw TemplateSyntaxError("chat template syntax error at line " + std::to_string(line) + ": " + what, line);
}

[[noreturn]] void unsupported(const std::string& what, int line) {
  throw UnsupportedError("chat template: " + what + " at line " + std::to_string(line) +
                         " is not supported by the chat-template engine");
}

std::unique_ptr<Stmt> new_stmt(Stmt::Kind kind) {
  auto s = std::make_unique<Stmt>();
  s->kind = kind;
  return s;
}

class Parser {
 public:
  Parser(std::vector<Token> tokens, std::size_t max_depth) : t_(std::move(tokens)), max_depth_(max_depth) {}

  Body parse_all() {
    Body body = parse_body({});
    if (cur().type != TokenType::End) syntax_error("unexpected tag", cur().line);
    return body;
  }

 private:
  const Token& cur() const { return t_[p_]; }
  const Token& peek(std::size_t k = 1) const { return t_[std::min(p_ + k, t_.size() - 1)]; }
  void next() {
    if (p_ + 1 < t_.size()) ++p_;
  }
  bool is_op(const char* op) const { return cur().type == TokenType::Operator && cur().text == op; }
  bool is_name(const char* n) const { return cur().type == TokenType::Name && cur().text == n; }
  bool skip_op(const char* op) {
    if (!is_op(op)) return false;
    next();
    return true;
  }
  bool skip_name(const char* n) {
    if (!is_name(n)) return false;
    next();
    return true;
  }
  static std::string describe(const Token& t) {
    switch (t.type) {
      case TokenType::Data: return "template data";
      case TokenType::VariableBegin: return "'{{'";
      case TokenType::VariableEnd: return "end of print statement";
      case TokenType::BlockBegin: return "'{%'";
      case TokenType::BlockEnd: return "end of statement block";
      case TokenType::String: return "string";
      case TokenType::Integer: return "integer";
      case TokenType::Float: return "float";
      case TokenType::End: return "end of template";
      default: return "'" + t.text + "'";
    }
  }
  void expect_op(const char* op) {
    if (!skip_op(op)) syntax_error(std::string("expected '") + op + "', got " + describe(cur()), cur().line);
  }
  std::string expect_name() {
    if (cur().type != TokenType::Name) syntax_error("expected a name, got " + describe(cur()), cur().line);
    std::string n = cur().text;
    next();
    return n;
  }
  void expect_block_end() {
    if (cur().type != TokenType::BlockEnd)
      syntax_error("expected end of statement block, got " + describe(cur()), cur().line);
    next();
  }

  struct DepthGuard {
    DepthGuard(Parser& p, int line) : p(p) {
      if (++p.depth_ > p.max_depth_)
        unsupported("nesting deeper than " + std::to_string(p.max_depth_) + " levels", line);
    }
    ~DepthGuard() { --p.depth_; }
    Parser& p;
  };

  // Statements until a block tag whose name is in `ends` (left current: the name token after '{%').
  Body parse_body(const std::set<std::string>& ends) {
    DepthGuard guard(*this, cur().line);
    Body body;
    while (true) {
      const Token& t = cur();
      if (t.type == TokenType::End) {
        if (!ends.empty()) {
          std::string list;
          for (const auto& e : ends) list += (list.empty() ? "'" : " or '") + e + "'";
          syntax_error("unexpected end of template, expected " + list, t.line);
        }
        return body;
      }
      if (t.type == TokenType::Data) {
        auto s = new_stmt(Stmt::Kind::Text);
        s->line = t.line;
        s->text = t.text;
        body.push_back(std::move(s));
        next();
        continue;
      }
      if (t.type == TokenType::VariableBegin) {
        next();
        auto s = new_stmt(Stmt::Kind::Output);
        s->line = t.line;
        s->expr = parse_tuple(true);
        if (cur().type != TokenType::VariableEnd)
          syntax_error("expected end of print statement, got " + describe(cur()), cur().line);
        next();
        body.push_back(std::move(s));
        continue;
      }
      if (t.type != TokenType::BlockBegin) syntax_error("unexpected " + describe(t), t.line);
      const Token& name = peek();
      if (name.type != TokenType::Name) syntax_error("tag name expected", name.line);
      if (ends.count(name.text)) {
        next();  // leave the tag name current
        return body;
      }
      next();
      body.push_back(parse_statement());
    }
  }

  std::unique_ptr<Stmt> parse_statement() {
    const Token tag = cur();
    const std::string& n = tag.text;
    if (n == "if") return parse_if();
    if (n == "for") return parse_for();
    if (n == "set") return parse_set();
    if (n == "macro") return parse_macro();
    if (n == "break" || n == "continue") {
      if (loop_depth_ == 0) syntax_error("'" + n + "' outside of a loop", tag.line);
      next();
      expect_block_end();
      auto s = new_stmt(n == "break" ? Stmt::Kind::Break : Stmt::Kind::Continue);
      s->line = tag.line;
      return s;
    }
    if (n == "generation") {
      // transformers' AssistantTracker extension: the body renders as is.
      next();
      expect_block_end();
      auto s = new_stmt(Stmt::Kind::Block);
      s->line = tag.line;
      s->body = parse_body({"endgeneration"});
      next();
      expect_block_end();
      return s;
    }
    static const std::set<std::string> known = {"include", "import",     "from", "extends", "block", "call", "filter",
                                                "with",    "autoescape", "do",   "trans",   "raw",   "print"};
    if (known.count(n)) unsupported("the tag {% " + n + " %}", tag.line);
    syntax_error("Encountered unknown tag '" + n + "'", tag.line);
  }

  std::unique_ptr<Stmt> parse_if() {
    auto s = new_stmt(Stmt::Kind::If);
    s->line = cur().line;
    next();  // if
    while (true) {
      s->conditions.push_back(parse_tuple(false));
      expect_block_end();
      s->bodies.push_back(parse_body({"elif", "else", "endif"}));
      const std::string tag = cur().text;
      next();
      if (tag == "elif") continue;
      if (tag == "else") {
        expect_block_end();
        s->bodies.push_back(parse_body({"endif"}));
        next();
      }
      expect_block_end();
      return s;
    }
  }

  std::unique_ptr<Stmt> parse_for() {
    auto s = new_stmt(Stmt::Kind::For);
    s->line = cur().line;
    next();  // for
    const bool paren = skip_op("(");
    s->targets.push_back(expect_name());
    while (skip_op(",")) {
      if (is_name("in")) break;
      s->targets.push_back(expect_name());
    }
    if (paren) expect_op(")");
    if (!skip_name("in")) syntax_error("expected 'in', got " + describe(cur()), cur().line);
    s->expr = parse_tuple(false);
    if (skip_name("if")) s->filter = parse_expression(true);
    if (is_name("recursive")) unsupported("recursive for loops", cur().line);
    expect_block_end();
    ++loop_depth_;
    s->body = parse_body({"endfor", "else"});
    --loop_depth_;
    if (cur().text == "else") {
      next();
      expect_block_end();
      s->else_body = parse_body({"endfor"});
    }
    next();
    expect_block_end();
    return s;
  }

  std::unique_ptr<Stmt> parse_set() {
    const int line = cur().line;
    next();  // set
    auto s = new_stmt(Stmt::Kind::Set);
    s->line = line;
    s->target = expect_name();
    if (skip_op(".")) {
      s->attribute = expect_name();
    } else if (is_op(",")) {
      s->tuple_targets.push_back(s->target);
      while (skip_op(",")) s->tuple_targets.push_back(expect_name());
    }
    if (skip_op("=")) {
      s->expr = parse_tuple(true);
      expect_block_end();
      return s;
    }
    if (!s->attribute.empty() || !s->tuple_targets.empty()) syntax_error("expected '='", cur().line);
    if (is_op("|")) unsupported("filtered block assignment {% set x | filter %}", line);
    expect_block_end();
    s->kind = Stmt::Kind::SetBlock;
    s->body = parse_body({"endset"});
    next();
    expect_block_end();
    return s;
  }

  std::unique_ptr<Stmt> parse_macro() {
    const int line = cur().line;
    next();  // macro
    auto def = std::make_shared<MacroDef>();
    def->name = expect_name();
    expect_op("(");
    while (!is_op(")")) {
      if (!def->params.empty()) expect_op(",");
      if (is_op(")")) break;
      def->params.push_back(expect_name());
      if (skip_op("="))
        def->defaults.push_back(parse_expression(true));
      else if (!def->defaults.empty())
        syntax_error("non-default argument follows default argument", cur().line);
    }
    next();
    expect_block_end();
    const int saved_loops = loop_depth_;
    loop_depth_ = 0;
    def->body = parse_body({"endmacro"});
    loop_depth_ = saved_loops;
    next();
    expect_block_end();
    auto s = new_stmt(Stmt::Kind::Macro);
    s->line = line;
    s->macro = std::move(def);
    return s;
  }

  // ---- expressions ----
  ExprPtr make(Expr::Kind k, int line) {
    auto e = std::make_unique<Expr>();
    e->kind = k;
    e->line = line;
    return e;
  }

  ExprPtr parse_tuple(bool with_condexpr) {
    const int line = cur().line;
    ExprPtr first = with_condexpr ? parse_expression(true) : parse_or();
    if (!is_op(",")) return first;
    auto t = make(Expr::Kind::Tuple, line);
    t->children.push_back(std::move(first));
    while (skip_op(",")) {
      if (cur().type == TokenType::VariableEnd || cur().type == TokenType::BlockEnd || is_op(")")) break;
      t->children.push_back(with_condexpr ? parse_expression(true) : parse_or());
    }
    return t;
  }

  ExprPtr parse_expression(bool with_condexpr) {
    DepthGuard guard(*this, cur().line);
    if (!with_condexpr) return parse_or();
    ExprPtr e = parse_or();
    while (is_name("if")) {
      const int line = cur().line;
      next();
      auto c = make(Expr::Kind::Conditional, line);
      c->children.push_back(parse_or());
      c->children.push_back(std::move(e));
      if (skip_name("else"))
        c->children.push_back(parse_expression(true));
      else
        c->children.push_back(nullptr);
      e = std::move(c);
    }
    return e;
  }

  ExprPtr binary(const std::string& op, ExprPtr l, ExprPtr r, int line) {
    auto b = make(Expr::Kind::Binary, line);
    b->name = op;
    b->children.push_back(std::move(l));
    b->children.push_back(std::move(r));
    return b;
  }

  ExprPtr parse_or() {
    ExprPtr l = parse_and();
    while (is_name("or")) {
      const int line = cur().line;
      next();
      l = binary("or", std::move(l), parse_and(), line);
    }
    return l;
  }
  ExprPtr parse_and() {
    ExprPtr l = parse_not();
    while (is_name("and")) {
      const int line = cur().line;
      next();
      l = binary("and", std::move(l), parse_not(), line);
    }
    return l;
  }
  ExprPtr parse_not() {
    if (is_name("not")) {
      DepthGuard guard(*this, cur().line);
      auto u = make(Expr::Kind::Unary, cur().line);
      next();
      u->name = "not";
      u->children.push_back(parse_not());
      return u;
    }
    return parse_compare();
  }
  ExprPtr parse_compare() {
    const int line = cur().line;
    ExprPtr first = parse_math1();
    ExprPtr cmp;
    while (true) {
      std::string op;
      if (cur().type == TokenType::Operator && (cur().text == "==" || cur().text == "!=" || cur().text == "<" ||
                                                cur().text == "<=" || cur().text == ">" || cur().text == ">=")) {
        op = cur().text;
        next();
      } else if (is_name("in")) {
        op = "in";
        next();
      } else if (is_name("not") && peek().type == TokenType::Name && peek().text == "in") {
        op = "not in";
        next();
        next();
      } else {
        break;
      }
      if (!cmp) {
        cmp = make(Expr::Kind::Compare, line);
        cmp->children.push_back(std::move(first));
      }
      cmp->ops.push_back(op);
      cmp->children.push_back(parse_math1());
    }
    return cmp ? std::move(cmp) : std::move(first);
  }
  ExprPtr parse_math1() {
    ExprPtr l = parse_concat();
    while (is_op("+") || is_op("-")) {
      const std::string op = cur().text;
      const int line = cur().line;
      next();
      l = binary(op, std::move(l), parse_concat(), line);
    }
    return l;
  }
  ExprPtr parse_concat() {
    ExprPtr l = parse_math2();
    while (is_op("~")) {
      const int line = cur().line;
      next();
      l = binary("~", std::move(l), parse_math2(), line);
    }
    return l;
  }
  ExprPtr parse_math2() {
    ExprPtr l = parse_pow();
    while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
      const std::string op = cur().text;
      const int line = cur().line;
      next();
      l = binary(op, std::move(l), parse_pow(), line);
    }
    return l;
  }
  ExprPtr parse_pow() {
    ExprPtr l = parse_unary(true);
    while (is_op("**")) {
      const int line = cur().line;
      next();
      l = binary("**", std::move(l), parse_unary(true), line);
    }
    return l;
  }
  ExprPtr parse_unary(bool with_filter) {
    DepthGuard guard(*this, cur().line);
    ExprPtr node;
    if (is_op("-") || is_op("+")) {
      auto u = make(Expr::Kind::Unary, cur().line);
      u->name = cur().text;
      next();
      u->children.push_back(parse_unary(false));
      node = std::move(u);
    } else {
      node = parse_primary();
    }
    node = parse_postfix(std::move(node));
    if (with_filter) node = parse_filter_expr(std::move(node));
    return node;
  }

  ExprPtr parse_primary() {
    const Token& t = cur();
    const int line = t.line;
    switch (t.type) {
      case TokenType::Name: {
        auto lit = make(Expr::Kind::Literal, line);
        if (t.text == "true" || t.text == "True") {
          lit->value = Value::boolean(true);
        } else if (t.text == "false" || t.text == "False") {
          lit->value = Value::boolean(false);
        } else if (t.text == "none" || t.text == "None") {
          lit->value = Value::none();
        } else {
          auto n = make(Expr::Kind::Name, line);
          n->name = t.text;
          next();
          return n;
        }
        next();
        return lit;
      }
      case TokenType::String: {
        std::string s;
        while (cur().type == TokenType::String) {
          s += cur().text;
          next();
        }
        auto lit = make(Expr::Kind::Literal, line);
        lit->value = Value::string(std::move(s));
        return lit;
      }
      case TokenType::Integer: {
        auto lit = make(Expr::Kind::Literal, line);
        lit->value = Value::integer(t.int_value);
        next();
        return lit;
      }
      case TokenType::Float: {
        auto lit = make(Expr::Kind::Literal, line);
        lit->value = Value::floating(t.float_value);
        next();
        return lit;
      }
      case TokenType::Operator:
        if (t.text == "(") {
          next();
          if (skip_op(")")) return make(Expr::Kind::Tuple, line);
          ExprPtr e = parse_expression(true);
          if (is_op(",")) {
            auto tup = make(Expr::Kind::Tuple, line);
            tup->children.push_back(std::move(e));
            while (skip_op(",")) {
              if (is_op(")")) break;
              tup->children.push_back(parse_expression(true));
            }
            e = std::move(tup);
          }
          expect_op(")");
          return e;
        }
        if (t.text == "[") {
          next();
          auto l = make(Expr::Kind::List, line);
          while (!is_op("]")) {
            if (!l->children.empty()) expect_op(",");
            if (is_op("]")) break;
            l->children.push_back(parse_expression(true));
          }
          next();
          return l;
        }
        if (t.text == "{") {
          next();
          auto d = make(Expr::Kind::Dict, line);
          while (!is_op("}")) {
            if (!d->children.empty()) expect_op(",");
            if (is_op("}")) break;
            d->children.push_back(parse_expression(true));
            expect_op(":");
            d->children.push_back(parse_expression(true));
          }
          next();
          return d;
        }
        break;
      default: break;
    }
    syntax_error("unexpected " + describe(t), line);
  }

  ExprPtr parse_postfix(ExprPtr node) {
    while (true) {
      const int line = cur().line;
      if (is_op(".")) {
        next();
        if (cur().type == TokenType::Name) {
          auto a = make(Expr::Kind::Attribute, line);
          a->name = cur().text;
          a->children.push_back(std::move(node));
          next();
          node = std::move(a);
        } else if (cur().type == TokenType::Integer) {
          auto it = make(Expr::Kind::Item, line);
          auto k = make(Expr::Kind::Literal, line);
          k->value = Value::integer(cur().int_value);
          it->children.push_back(std::move(node));
          it->children.push_back(std::move(k));
          next();
          node = std::move(it);
        } else {
          syntax_error("expected name or number after '.'", line);
        }
      } else if (is_op("[")) {
        next();
        node = parse_subscript(std::move(node), line);
      } else if (is_op("(")) {
        auto c = make(Expr::Kind::Call, line);
        c->children.push_back(std::move(node));
        parse_call_args(*c);
        node = std::move(c);
      } else {
        return node;
      }
    }
  }

  ExprPtr parse_subscript(ExprPtr node, int line) {
    // [expr] or [a:b:c]
    ExprPtr parts[3];
    bool is_slice = false;
    int idx = 0;
    if (!is_op(":")) parts[0] = parse_expression(true);
    while (is_op(":")) {
      is_slice = true;
      next();
      ++idx;
      if (idx > 2) syntax_error("too many ':' in a slice", line);
      if (!is_op(":") && !is_op("]")) parts[idx] = parse_expression(true);
    }
    if (!is_slice && is_op(",")) unsupported("tuple subscripts", line);
    expect_op("]");
    if (!is_slice) {
      auto it = make(Expr::Kind::Item, line);
      it->children.push_back(std::move(node));
      it->children.push_back(std::move(parts[0]));
      return it;
    }
    auto s = make(Expr::Kind::Slice, line);
    s->children.push_back(std::move(node));
    for (auto& p : parts) s->children.push_back(std::move(p));
    return s;
  }

  void parse_call_args(Expr& call) {
    expect_op("(");
    bool first = true;
    while (!is_op(")")) {
      if (!first) expect_op(",");
      first = false;
      if (is_op(")")) break;
      if (is_op("*") || is_op("**")) unsupported("*args / **kwargs in calls", cur().line);
      if (cur().type == TokenType::Name && peek().type == TokenType::Operator && peek().text == "=") {
        std::string key = cur().text;
        next();
        next();
        call.kwargs.emplace_back(std::move(key), parse_expression(true));
      } else {
        if (!call.kwargs.empty()) syntax_error("positional argument follows keyword argument", cur().line);
        call.args.push_back(parse_expression(true));
      }
    }
    next();
  }

  ExprPtr parse_filter_expr(ExprPtr node) {
    while (true) {
      if (is_op("|")) {
        next();
        const int line = cur().line;
        std::string name = expect_name();
        while (is_op(".") && peek().type == TokenType::Name) {
          next();
          name += "." + cur().text;
          next();
        }
        if (!jinja_has_filter(name)) syntax_error("No filter named '" + name + "'.", line);
        if (!filter_supported(name)) unsupported("the filter '" + name + "'", line);
        auto f = make(Expr::Kind::Filter, line);
        f->name = name;
        f->children.push_back(std::move(node));
        if (is_op("(")) parse_call_args(*f);
        node = std::move(f);
      } else if (is_name("is")) {
        next();
        const int line = cur().line;
        auto t = make(Expr::Kind::Test, line);
        if (skip_name("not")) t->negated = true;
        std::string name = expect_name();
        if (!jinja_has_test(name)) syntax_error("No test named '" + name + "'.", line);
        if (!test_supported(name)) unsupported("the test '" + name + "'", line);
        t->name = name;
        t->children.push_back(std::move(node));
        if (is_op("(")) {
          parse_call_args(*t);
        } else if ((cur().type == TokenType::Name || cur().type == TokenType::String ||
                    cur().type == TokenType::Integer || cur().type == TokenType::Float || is_op("[") || is_op("{")) &&
                   !(is_name("else") || is_name("or") || is_name("and"))) {
          // `is divisibleby 3`, `is sameas false`: one argument without parentheses
          if (is_name("is")) syntax_error("unexpected 'is'", cur().line);
          t->args.push_back(parse_postfix(parse_primary()));
        }
        node = std::move(t);
      } else if (is_op("(")) {
        auto c = make(Expr::Kind::Call, cur().line);
        c->children.push_back(std::move(node));
        parse_call_args(*c);
        node = std::move(c);
      } else {
        return node;
      }
    }
  }

  std::vector<Token> t_;
  std::size_t p_ = 0;
  std::size_t max_depth_;
  std::size_t depth_ = 0;
  int loop_depth_ = 0;
};

}  // namespace

Body parse_template(std::string_view source, std::size_t max_depth) {
  return Parser(tokenize(source), max_depth).parse_all();
}

}  // namespace ortformers::chat_template::detail
