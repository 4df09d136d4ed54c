#include "chat_template/interpreter.hpp"

#include <algorithm>
#include <cmath>

#include "chat_template/builtins.hpp"
#include "chat_template/text.hpp"

namespace ortformers::chat_template::detail {

Interpreter::Interpreter(const Limits& limits, Dict globals, Dict variables) : limits_(limits) {
  frames_.push_back(std::move(globals.items));
  frames_.push_back(std::move(variables.items));
  frames_.emplace_back();
}

void Interpreter::step() {
  if (++steps_ > limits_.max_steps)
    fail("LimitError", "the chat template ran for more than " + std::to_string(limits_.max_steps) + " steps");
}

void Interpreter::check_size(std::size_t bytes) {
  if (bytes > limits_.max_string_bytes)
    fail("LimitError",
         "the chat template built a value larger than " + std::to_string(limits_.max_string_bytes) + " bytes");
}

void Interpreter::emit(std::string& out, const std::string& s) {
  check_size(out.size() + s.size());
  out += s;
}

std::string Interpreter::render(const Body& body) {
  std::string out;
  exec(body, out);
  return out;
}

Value Interpreter::lookup(const std::string& name) const {
  for (auto f = frames_.rbegin(); f != frames_.rend(); ++f)
    for (auto it = f->rbegin(); it != f->rend(); ++it)
      if (it->first == name) return it->second;
  return Value::undefined("'" + name + "' is undefined");
}

void Interpreter::assign(const std::string& name, Value v) {
  for (auto& [k, x] : frames_.back())
    if (k == name) {
      x = std::move(v);
      return;
    }
  frames_.back().emplace_back(name, std::move(v));
}

std::vector<Value> iterate(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::Undefined: return {};
    case Value::Kind::List:
    case Value::Kind::Tuple: return v.items();
    case Value::Kind::Dict: {
      std::vector<Value> keys;
      for (const auto& kv : v.dict_value().items) keys.push_back(Value::string(kv.first));
      return keys;
    }
    case Value::Kind::String: {
      std::vector<Value> chars;
      for (char32_t cp : decode_utf8(v.str())) {
        std::string s;
        append_utf8(s, cp);
        chars.push_back(Value::string(std::move(s)));
      }
      return chars;
    }
    default: fail("TypeError", "'" + v.type_name() + "' object is not iterable");
  }
}

Interpreter::Flow Interpreter::exec(const Body& body, std::string& out) {
  for (const auto& sp : body) {
    const Stmt& s = *sp;
    line_ = s.line;
    step();
    switch (s.kind) {
      case Stmt::Kind::Text: emit(out, s.text); break;
      case Stmt::Kind::Output: {
        const Value v = eval(*s.expr);
        line_ = s.line;
        emit(out, to_str(v));
        break;
      }
      case Stmt::Kind::If: {
        std::size_t i = 0;
        for (; i < s.conditions.size(); ++i)
          if (truthy(eval(*s.conditions[i]))) break;
        if (i < s.bodies.size()) {
          const Flow f = exec(s.bodies[i], out);
          if (f != Flow::Normal) return f;
        }
        break;
      }
      case Stmt::Kind::For: {
        const Flow f = exec_for(s, out);
        if (f != Flow::Normal) return f;
        break;
      }
      case Stmt::Kind::Set: {
        Value v = eval(*s.expr);
        line_ = s.line;
        if (!s.attribute.empty()) {
          Value target = lookup(s.target);
          if (target.kind() != Value::Kind::Namespace)
            fail("TemplateRuntimeError", "cannot assign attribute on non-namespace object");
          target.dict_value().set(s.attribute, std::move(v));
        } else if (!s.tuple_targets.empty()) {
          const auto items = iterate(v);
          if (items.size() != s.tuple_targets.size())
            fail("ValueError", "cannot unpack " + std::to_string(items.size()) + " values into " +
                                   std::to_string(s.tuple_targets.size()) + " names");
          for (std::size_t k = 0; k < items.size(); ++k) assign(s.tuple_targets[k], items[k]);
        } else {
          assign(s.target, std::move(v));
        }
        break;
      }
      case Stmt::Kind::SetBlock: {
        std::string captured;
        exec(s.body, captured);
        assign(s.target, Value::string(std::move(captured)));
        break;
      }
      case Stmt::Kind::Macro: {
        auto def = s.macro;
        assign(def->name,
               Value::callable(def->name, [def](Interpreter& in, CallArgs& args) { return in.call_macro(def, args); }));
        break;
      }
      case Stmt::Kind::Break: return Flow::Break;
      case Stmt::Kind::Continue: return Flow::Continue;
      case Stmt::Kind::Block: {
        const Flow f = exec(s.body, out);
        if (f != Flow::Normal) return f;
        break;
      }
    }
  }
  return Flow::Normal;
}

Interpreter::Flow Interpreter::exec_for(const Stmt& s, std::string& out) {
  const Value iterable = eval(*s.expr);
  line_ = s.line;
  std::vector<Value> items = iterate(iterable);
  frames_.emplace_back();
  struct Pop {
    std::vector<Frame>& f;
    ~Pop() { f.pop_back(); }
  } pop{frames_};
  auto bind = [&](const Value& item) {
    if (s.targets.size() == 1) {
      assign(s.targets[0], item);
      return;
    }
    if (!item.is_sequence() && !item.is_string())
      fail("TypeError", "cannot unpack non-iterable " + item.type_name() + " object");
    const auto parts = iterate(item);
    if (parts.size() != s.targets.size())
      fail("ValueError", "cannot unpack " + std::to_string(parts.size()) + " values into " +
                             std::to_string(s.targets.size()) + " loop variables");
    for (std::size_t k = 0; k < parts.size(); ++k) assign(s.targets[k], parts[k]);
  };
  if (s.filter) {
    std::vector<Value> kept;
    for (const auto& item : items) {
      step();
      bind(item);
      if (truthy(eval(*s.filter))) kept.push_back(item);
    }
    items = std::move(kept);
  }
  const std::size_t n = items.size();
  for (std::size_t i = 0; i < n; ++i) {
    step();
    bind(items[i]);
    Dict loop;
    const auto ii = static_cast<std::int64_t>(i);
    const auto nn = static_cast<std::int64_t>(n);
    loop.items.emplace_back("index", Value::integer(ii + 1));
    loop.items.emplace_back("index0", Value::integer(ii));
    loop.items.emplace_back("revindex", Value::integer(nn - ii));
    loop.items.emplace_back("revindex0", Value::integer(nn - ii - 1));
    loop.items.emplace_back("first", Value::boolean(i == 0));
    loop.items.emplace_back("last", Value::boolean(i + 1 == n));
    loop.items.emplace_back("length", Value::integer(nn));
    loop.items.emplace_back("depth", Value::integer(1));
    loop.items.emplace_back("depth0", Value::integer(0));
    if (i > 0) loop.items.emplace_back("previtem", items[i - 1]);
    if (i + 1 < n) loop.items.emplace_back("nextitem", items[i + 1]);
    loop.items.emplace_back("cycle", Value::callable("loop.cycle", [i](Interpreter&, CallArgs& a) {
                              if (a.args.empty()) fail("TypeError", "no items for cycling given");
                              return a.args[i % a.args.size()];
                            }));
    assign("loop", Value::dict(std::move(loop)));
    const Flow f = exec(s.body, out);
    if (f == Flow::Break) break;
  }
  if (n == 0) exec(s.else_body, out);
  return Flow::Normal;
}

Value Interpreter::call_macro(const std::shared_ptr<MacroDef>& def, CallArgs& args) {
  const std::size_t max_calls = std::max<std::size_t>(1, limits_.max_depth / 4);
  if (++depth_ > max_calls) {
    --depth_;
    fail("LimitError", "macro calls nested deeper than " + std::to_string(max_calls));
  }
  struct Unwind {
    std::size_t& d;
    bool armed = true;
    ~Unwind() {
      if (armed) --d;
    }
  } unwind{depth_};
  if (args.args.size() > def->params.size())
    fail("TypeError",
         "macro '" + def->name + "' takes not more than " + std::to_string(def->params.size()) + " argument(s)");
  Frame frame;
  std::vector<bool> set(def->params.size(), false);
  for (std::size_t i = 0; i < args.args.size(); ++i) {
    frame.emplace_back(def->params[i], args.args[i]);
    set[i] = true;
  }
  for (auto& [k, v] : args.kwargs) {
    std::size_t i = 0;
    while (i < def->params.size() && def->params[i] != k) ++i;
    if (i == def->params.size()) fail("TypeError", "macro '" + def->name + "' takes no keyword argument '" + k + "'");
    if (set[i]) fail("TypeError", "macro '" + def->name + "' got multiple values for argument '" + k + "'");
    frame.emplace_back(k, v);
    set[i] = true;
  }
  std::vector<Frame> saved = std::move(frames_);
  frames_.clear();
  frames_.push_back(saved[0]);
  frames_.push_back(saved[1]);
  frames_.push_back(saved[2]);
  frames_.push_back(std::move(frame));
  const std::size_t first_default = def->params.size() - def->defaults.size();
  std::string out;
  try {
    for (std::size_t i = 0; i < def->params.size(); ++i) {
      if (set[i]) continue;
      if (i >= first_default)
        assign(def->params[i], eval(*def->defaults[i - first_default]));
      else
        assign(def->params[i], Value::undefined("parameter '" + def->params[i] + "' was not provided"));
    }
    exec(def->body, out);
  } catch (...) {
    frames_ = std::move(saved);
    throw;
  }
  frames_ = std::move(saved);
  return Value::string(std::move(out));
}

Value Interpreter::call(const Value& callee, CallArgs& args, int line) {
  line_ = line;
  if (callee.is_undefined()) fail_undefined(callee);
  if (callee.kind() != Value::Kind::Callable) fail("TypeError", "'" + callee.type_name() + "' object is not callable");
  return callee.callable_value().fn(*this, args);
}

namespace {

template <class Op>
std::int64_t checked(Op op, std::int64_t a, std::int64_t b) {
  std::int64_t r = 0;
  if (op(a, b, &r)) fail("Unsupported", "integer arithmetic beyond 64 bits");
  return r;
}
bool add_ovf(std::int64_t a, std::int64_t b, std::int64_t* r) {
  return __builtin_add_overflow(a, b, r);
}
bool sub_ovf(std::int64_t a, std::int64_t b, std::int64_t* r) {
  return __builtin_sub_overflow(a, b, r);
}
bool mul_ovf(std::int64_t a, std::int64_t b, std::int64_t* r) {
  return __builtin_mul_overflow(a, b, r);
}

Value repeat(Interpreter& in, const Value& seq, std::int64_t n) {
  if (n < 0) n = 0;
  if (seq.is_string()) {
    in.check_size(seq.str().size() * static_cast<std::size_t>(n));
    std::string out;
    for (std::int64_t i = 0; i < n; ++i) out += seq.str();
    return Value::string(std::move(out));
  }
  in.check_size(seq.items().size() * static_cast<std::size_t>(n) * 16);
  std::vector<Value> out;
  for (std::int64_t i = 0; i < n; ++i) out.insert(out.end(), seq.items().begin(), seq.items().end());
  return seq.kind() == Value::Kind::Tuple ? Value::tuple(std::move(out)) : Value::list(std::move(out));
}

[[noreturn]] void bad_operands(const std::string& op, const Value& a, const Value& b) {
  if (op == "+" && a.is_string()) fail("TypeError", "can only concatenate str (not \"" + b.type_name() + "\") to str");
  if (op == "+" && a.kind() == Value::Kind::List)
    fail("TypeError", "can only concatenate list (not \"" + b.type_name() + "\") to list");
  fail("TypeError", "unsupported operand type(s) for " + op + ": '" + a.type_name() + "' and '" + b.type_name() + "'");
}

double py_fmod(double a, double b) {
  double m = std::fmod(a, b);
  if (m != 0 && ((m < 0) != (b < 0))) m += b;
  return m;
}

}  // namespace

Value Interpreter::eval_binary(const Expr& e) {
  const std::string& op = e.name;
  if (op == "and") {
    Value a = eval(*e.children[0]);
    return truthy(a) ? eval(*e.children[1]) : a;
  }
  if (op == "or") {
    Value a = eval(*e.children[0]);
    return truthy(a) ? a : eval(*e.children[1]);
  }
  const Value a = eval(*e.children[0]);
  const Value b = eval(*e.children[1]);
  line_ = e.line;
  if (op == "~") {
    std::string s = to_str(a);
    s += to_str(b);
    check_size(s.size());
    return Value::string(std::move(s));
  }
  if (a.is_undefined()) fail_undefined(a);
  if (b.is_undefined()) fail_undefined(b);
  const bool ints = a.is_int() && b.is_int();
  const bool nums = a.is_number() && b.is_number();
  if (op == "+") {
    if (ints) return Value::integer(checked(add_ovf, a.as_int(), b.as_int()));
    if (nums) return Value::floating(a.as_double() + b.as_double());
    if (a.is_string() && b.is_string()) {
      check_size(a.str().size() + b.str().size());
      return Value::string(a.str() + b.str());
    }
    if (a.is_sequence() && a.kind() == b.kind()) {
      std::vector<Value> out = a.items();
      out.insert(out.end(), b.items().begin(), b.items().end());
      check_size(out.size() * 16);
      return a.kind() == Value::Kind::Tuple ? Value::tuple(std::move(out)) : Value::list(std::move(out));
    }
    bad_operands(op, a, b);
  }
  if (op == "-") {
    if (ints) return Value::integer(checked(sub_ovf, a.as_int(), b.as_int()));
    if (nums) return Value::floating(a.as_double() - b.as_double());
    bad_operands(op, a, b);
  }
  if (op == "*") {
    if (ints) return Value::integer(checked(mul_ovf, a.as_int(), b.as_int()));
    if (nums) return Value::floating(a.as_double() * b.as_double());
    if ((a.is_string() || a.is_sequence()) && b.is_int()) return repeat(*this, a, b.as_int());
    if ((b.is_string() || b.is_sequence()) && a.is_int()) return repeat(*this, b, a.as_int());
    bad_operands(op, a, b);
  }
  if (op == "/") {
    if (!nums) bad_operands(op, a, b);
    if (b.as_double() == 0) fail("ZeroDivisionError", "division by zero");
    return Value::floating(a.as_double() / b.as_double());
  }
  if (op == "//" || op == "%") {
    if (!nums) {
      if (op == "%" && a.is_string()) fail("Unsupported", "printf-style string formatting with '%'");
      bad_operands(op, a, b);
    }
    if (ints) {
      const std::int64_t x = a.as_int(), y = b.as_int();
      if (y == 0)
        fail("ZeroDivisionError", op == "%" ? "integer modulo by zero" : "integer division or modulo by zero");
      if (x == INT64_MIN && y == -1) fail("Unsupported", "integer arithmetic beyond 64 bits");
      std::int64_t q = x / y, m = x % y;
      if (m != 0 && ((m < 0) != (y < 0))) {
        --q;
        m += y;
      }
      return Value::integer(op == "%" ? m : q);
    }
    const double x = a.as_double(), y = b.as_double();
    if (y == 0) fail("ZeroDivisionError", "float modulo");
    if (op == "%") return Value::floating(py_fmod(x, y));
    return Value::floating(std::floor(x / y));
  }
  if (op == "**") {
    if (ints && b.as_int() >= 0) {
      std::int64_t base = a.as_int(), result = 1, exp = b.as_int();
      while (exp > 0) {
        step();
        if (exp & 1) result = checked(mul_ovf, result, base);
        exp >>= 1;
        if (exp > 0) base = checked(mul_ovf, base, base);
      }
      return Value::integer(result);
    }
    if (nums) {
      if (a.as_double() == 0 && b.as_double() < 0)
        fail("ZeroDivisionError", "0.0 cannot be raised to a negative power");
      const double p = std::pow(a.as_double(), b.as_double());
      if (std::isnan(p) && !std::isnan(a.as_double()) && !std::isnan(b.as_double()))
        fail("Unsupported", "a power with a complex result");
      return Value::floating(p);
    }
    bad_operands(op, a, b);
  }
  fail("Unsupported", "the operator '" + op + "'");
}

Value Interpreter::eval_compare(const Expr& e) {
  Value left = eval(*e.children[0]);
  for (std::size_t i = 0; i < e.ops.size(); ++i) {
    Value right = eval(*e.children[i + 1]);
    line_ = e.line;
    const std::string& op = e.ops[i];
    bool ok = false;
    if (op == "==")
      ok = equals(left, right);
    else if (op == "!=")
      ok = !equals(left, right);
    else if (op == "in")
      ok = contains(right, left);
    else if (op == "not in")
      ok = !contains(right, left);
    else {
      const int c = compare(left, right, op.c_str());
      const bool nan = (left.kind() == Value::Kind::Float && std::isnan(left.as_double())) ||
                       (right.kind() == Value::Kind::Float && std::isnan(right.as_double()));
      if (nan)
        ok = false;
      else if (op == "<")
        ok = c < 0;
      else if (op == "<=")
        ok = c <= 0;
      else if (op == ">")
        ok = c > 0;
      else
        ok = c >= 0;
    }
    if (!ok) return Value::boolean(false);
    left = std::move(right);
  }
  return Value::boolean(true);
}

namespace {

std::int64_t slice_index(const Value& v, const char* what) {
  if (v.is_int()) return v.as_int();
  fail("TypeError", std::string("slice ") + what + " must be an integer or None, not " + v.type_name());
}

}  // namespace

Value Interpreter::eval(const Expr& e) {
  step();
  line_ = e.line;
  switch (e.kind) {
    case Expr::Kind::Literal: return e.value;
    case Expr::Kind::Name: return lookup(e.name);
    case Expr::Kind::List:
    case Expr::Kind::Tuple: {
      std::vector<Value> items;
      for (const auto& c : e.children) items.push_back(eval(*c));
      return e.kind == Expr::Kind::List ? Value::list(std::move(items)) : Value::tuple(std::move(items));
    }
    case Expr::Kind::Dict: {
      Dict d;
      for (std::size_t i = 0; i + 1 < e.children.size(); i += 2) {
        Value k = eval(*e.children[i]);
        Value v = eval(*e.children[i + 1]);
        if (!k.is_string()) fail("Unsupported", "dict literal keys that are not strings");
        d.set(k.str(), std::move(v));
      }
      return Value::dict(std::move(d));
    }
    case Expr::Kind::Attribute: {
      const Value obj = eval(*e.children[0]);
      line_ = e.line;
      if (obj.is_undefined()) fail_undefined(obj);
      return get_attribute(obj, e.name);
    }
    case Expr::Kind::Item: {
      const Value obj = eval(*e.children[0]);
      const Value key = eval(*e.children[1]);
      line_ = e.line;
      if (obj.is_undefined()) fail_undefined(obj);
      return get_item(obj, key);
    }
    case Expr::Kind::Slice: {
      const Value obj = eval(*e.children[0]);
      Value parts[3];
      for (int i = 0; i < 3; ++i)
        parts[i] = e.children[static_cast<std::size_t>(i) + 1] ? eval(*e.children[static_cast<std::size_t>(i) + 1])
                                                               : Value::none();
      line_ = e.line;
      if (obj.is_undefined()) fail_undefined(obj);
      for (auto& p : parts)
        if (p.is_undefined()) fail_undefined(p);
      const bool is_str = obj.is_string();
      if (!is_str && !obj.is_sequence())
        return Value::undefined("'" + obj.type_name() + "' object is not subscriptable");
      std::vector<char32_t> cps;
      if (is_str) cps = decode_utf8(obj.str());
      const auto n = static_cast<std::int64_t>(is_str ? cps.size() : obj.items().size());
      const std::int64_t step_v = parts[2].is_none() ? 1 : slice_index(parts[2], "step");
      if (step_v == 0) fail("ValueError", "slice step cannot be zero");
      auto norm = [&](const Value& v, std::int64_t dflt, std::int64_t lo, std::int64_t hi) {
        if (v.is_none()) return dflt;
        std::int64_t x = slice_index(v, "indices");
        if (x < 0) x += n;
        return std::clamp(x, lo, hi);
      };
      std::int64_t start, stop;
      if (step_v > 0) {
        start = norm(parts[0], 0, 0, n);
        stop = norm(parts[1], n, 0, n);
      } else {
        start = norm(parts[0], n - 1, -1, n - 1);
        stop = norm(parts[1], -1, -1, n - 1);
        if (!parts[1].is_none() && slice_index(parts[1], "indices") < -n) stop = -1;
      }
      std::vector<std::size_t> idx;
      for (std::int64_t i = start; step_v > 0 ? i < stop : i > stop; i += step_v) {
        step();
        idx.push_back(static_cast<std::size_t>(i));
      }
      if (is_str) {
        std::string out;
        for (auto i : idx) append_utf8(out, cps[i]);
        return Value::string(std::move(out));
      }
      std::vector<Value> out;
      for (auto i : idx) out.push_back(obj.items()[i]);
      return obj.kind() == Value::Kind::Tuple ? Value::tuple(std::move(out)) : Value::list(std::move(out));
    }
    case Expr::Kind::Call: {
      const Value callee = eval(*e.children[0]);
      CallArgs args;
      for (const auto& a : e.args) args.args.push_back(eval(*a));
      for (const auto& [k, a] : e.kwargs) args.kwargs.emplace_back(k, eval(*a));
      return call(callee, args, e.line);
    }
    case Expr::Kind::Filter: {
      const Value subject = eval(*e.children[0]);
      CallArgs args;
      for (const auto& a : e.args) args.args.push_back(eval(*a));
      for (const auto& [k, a] : e.kwargs) args.kwargs.emplace_back(k, eval(*a));
      line_ = e.line;
      return apply_filter(*this, e.name, subject, args);
    }
    case Expr::Kind::Test: {
      const Value subject = eval(*e.children[0]);
      CallArgs args;
      for (const auto& a : e.args) args.args.push_back(eval(*a));
      for (const auto& [k, a] : e.kwargs) args.kwargs.emplace_back(k, eval(*a));
      line_ = e.line;
      const bool r = apply_test(*this, e.name, subject, args);
      return Value::boolean(e.negated ? !r : r);
    }
    case Expr::Kind::Unary: {
      const Value v = eval(*e.children[0]);
      line_ = e.line;
      if (e.name == "not") return Value::boolean(!truthy(v));
      if (v.is_undefined()) fail_undefined(v);
      if (e.name == "+") {
        if (!v.is_number()) fail("TypeError", "bad operand type for unary +: '" + v.type_name() + "'");
        return v.kind() == Value::Kind::Bool ? Value::integer(v.as_int()) : v;
      }
      if (v.kind() == Value::Kind::Float) return Value::floating(-v.as_double());
      if (v.is_int()) {
        if (v.as_int() == INT64_MIN) fail("Unsupported", "integer arithmetic beyond 64 bits");
        return Value::integer(-v.as_int());
      }
      fail("TypeError", "bad operand type for unary -: '" + v.type_name() + "'");
    }
    case Expr::Kind::Binary: return eval_binary(e);
    case Expr::Kind::Compare: return eval_compare(e);
    case Expr::Kind::Conditional: {
      if (truthy(eval(*e.children[0]))) return eval(*e.children[1]);
      if (e.children[2]) return eval(*e.children[2]);
      return Value::undefined("the inline if expression on line " + std::to_string(e.line) +
                              " evaluated to false and no else section was defined");
    }
  }
  fail("Unsupported", "expression");
}

}  // namespace ortformers::chat_template::detail
