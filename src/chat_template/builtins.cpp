#include "chat_template/builtins.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <set>

#include "chat_template/interpreter.hpp"
#include "chat_template/text.hpp"

namespace ortformers::chat_template::detail {

namespace {

const std::set<std::string>& jinja_filters() {
  static const std::set<std::string> s = {
      "abs",    "attr",       "batch",       "capitalize", "center",   "count",
      "d",      "default",    "dictsort",    "e",          "escape",   "filesizeformat",
      "first",  "float",      "forceescape", "format",     "groupby",  "indent",
      "int",    "items",      "join",        "last",       "length",   "list",
      "lower",  "map",        "max",         "min",        "pprint",   "random",
      "reject", "rejectattr", "replace",     "reverse",    "round",    "safe",
      "select", "selectattr", "slice",       "sort",       "string",   "striptags",
      "sum",    "title",      "tojson",      "trim",       "truncate", "unique",
      "upper",  "urlencode",  "urlize",      "wordcount",  "wordwrap", "xmlattr"};
  return s;
}
const std::set<std::string>& supported_filters() {
  static const std::set<std::string> s = {
      "abs",     "attr",    "capitalize",  "count",  "d",      "default",    "e",      "escape",
      "first",   "float",   "forceescape", "indent", "int",    "items",      "join",   "last",
      "length",  "list",    "lower",       "map",    "max",    "min",        "reject", "rejectattr",
      "replace", "reverse", "round",       "safe",   "select", "selectattr", "sort",   "string",
      "sum",     "title",   "tojson",      "trim",   "upper",  "wordcount"};
  return s;
}
const std::set<std::string>& jinja_tests() {
  static const std::set<std::string> s = {
      "boolean",  "callable", "defined", "divisibleby", "eq",          "equalto", "escaped", "even",     "false",
      "filter",   "float",    "ge",      "gt",          "greaterthan", "in",      "integer", "iterable", "le",
      "lessthan", "lower",    "lt",      "mapping",     "ne",          "none",    "number",  "odd",      "sameas",
      "sequence", "string",   "test",    "true",        "undefined",   "upper"};
  return s;
}

// jinja2's Undefined messages: "'dict object' has no attribute 'x'", "'None' has no attribute 'strip'",
// "list object has no element 3".
std::string object_type_repr(const Value& v) {
  if (v.is_none()) return "None";
  if (v.kind() == Value::Kind::Namespace) return "jinja2.utils.Namespace object";
  if (v.kind() == Value::Kind::Callable) return "function object";
  return v.type_name() + " object";
}
std::string no_attribute(const Value& obj, const std::string& name) {
  return "'" + object_type_repr(obj) + "' has no attribute " + to_repr(Value::string(name));
}
std::string no_element(const Value& obj, const Value& key) {
  return object_type_repr(obj) + " has no element " + to_repr(key);
}

// ---- arguments ----
struct Args {
  CallArgs& a;
  std::string fname;
  std::size_t max_positional;
  std::vector<std::string> names;  // parameter names, positional order

  Args(CallArgs& args, std::string f, std::vector<std::string> params)
      : a(args), fname(std::move(f)), max_positional(params.size()), names(std::move(params)) {
    if (a.args.size() > max_positional)
      fail("TypeError", fname + "() takes at most " + std::to_string(max_positional) + " argument(s) (" +
                            std::to_string(a.args.size()) + " given)");
    for (const auto& [k, v] : a.kwargs)
      if (std::find(names.begin(), names.end(), k) == names.end())
        fail("TypeError", fname + "() got an unexpected keyword argument '" + k + "'");
  }
  std::optional<Value> opt(const std::string& name) const {
    for (const auto& [k, v] : a.kwargs)
      if (k == name) return v;
    const auto pos = static_cast<std::size_t>(std::find(names.begin(), names.end(), name) - names.begin());
    if (pos < a.args.size()) return a.args[pos];
    return std::nullopt;
  }
  Value get(const std::string& name, Value dflt) const {
    auto v = opt(name);
    return v ? *v : dflt;
  }
  Value required(const std::string& name) const {
    auto v = opt(name);
    if (!v) fail("TypeError", fname + "() missing required argument '" + name + "'");
    return *v;
  }
};

std::string want_string(const Value& v, const std::string& what) {
  if (v.is_undefined()) fail_undefined(v);
  if (!v.is_string()) fail("TypeError", what + " must be str, not " + v.type_name());
  return v.str();
}
std::int64_t want_int(const Value& v, const std::string& what) {
  if (v.is_undefined()) fail_undefined(v);
  if (!v.is_int()) fail("TypeError", what + " must be an integer, not " + v.type_name());
  return v.as_int();
}

Value list_of(std::vector<Value> v) {
  return Value::list(std::move(v));
}

// ---- string methods ----
const std::set<std::string>& python_str_methods() {
  static const std::set<std::string> s = {
      "capitalize", "casefold",     "center",       "count",   "encode",     "endswith",    "expandtabs",
      "find",       "format",       "format_map",   "index",   "isalnum",    "isalpha",     "isascii",
      "isdecimal",  "isdigit",      "isidentifier", "islower", "isnumeric",  "isprintable", "isspace",
      "istitle",    "isupper",      "join",         "ljust",   "lower",      "lstrip",      "maketrans",
      "partition",  "removeprefix", "removesuffix", "replace", "rfind",      "rindex",      "rjust",
      "rpartition", "rsplit",       "rstrip",       "split",   "splitlines", "startswith",  "strip",
      "swapcase",   "title",        "translate",    "upper",   "zfill"};
  return s;
}

std::string str_format(const std::string& fmt, CallArgs& a) {
  std::string out;
  std::size_t auto_idx = 0;
  for (std::size_t i = 0; i < fmt.size(); ++i) {
    const char c = fmt[i];
    if (c == '{' && i + 1 < fmt.size() && fmt[i + 1] == '{') {
      out += '{';
      ++i;
    } else if (c == '}' && i + 1 < fmt.size() && fmt[i + 1] == '}') {
      out += '}';
      ++i;
    } else if (c == '{') {
      const auto e = fmt.find('}', i);
      if (e == std::string::npos) fail("ValueError", "Single '{' encountered in format string");
      const std::string field = fmt.substr(i + 1, e - i - 1);
      if (field.find_first_of(":!.[") != std::string::npos)
        fail("Unsupported", "str.format field '{" + field + "}' (conversions, format specs and lookups)");
      const Value* v = nullptr;
      if (field.empty()) {
        if (auto_idx >= a.args.size())
          fail("IndexError",
               "Replacement index " + std::to_string(auto_idx) + " out of range for positional args tuple");
        v = &a.args[auto_idx++];
      } else if (std::all_of(field.begin(), field.end(), [](char ch) { return ch >= '0' && ch <= '9'; })) {
        const auto k = static_cast<std::size_t>(std::strtoull(field.c_str(), nullptr, 10));
        if (k >= a.args.size())
          fail("IndexError", "Replacement index " + field + " out of range for positional args tuple");
        v = &a.args[k];
      } else {
        for (const auto& [k, x] : a.kwargs)
          if (k == field) v = &x;
        if (v == nullptr) fail("KeyError", "'" + field + "'");
      }
      out += to_str(*v);
      i = e;
    } else if (c == '}') {
      fail("ValueError", "Single '}' encountered in format string");
    } else {
      out += c;
    }
  }
  return out;
}

bool prefix_match(const std::string& s, const Value& p, bool suffix) {
  auto one = [&](const Value& x) {
    const std::string t = want_string(x, suffix ? "endswith first arg" : "startswith first arg");
    return suffix ? (s.size() >= t.size() && s.compare(s.size() - t.size(), t.size(), t) == 0)
                  : s.compare(0, t.size(), t) == 0;
  };
  if (p.kind() == Value::Kind::Tuple) {
    for (const auto& x : p.items())
      if (one(x)) return true;
    return false;
  }
  return one(p);
}

Value string_method(const Value& self, const std::string& name) {
  const std::string s = self.str();
  using Fn = std::function<Value(Interpreter&, CallArgs&)>;
  Fn fn;
  if (name == "strip" || name == "lstrip" || name == "rstrip") {
    const StripSide side = name == "strip" ? StripSide::Both : name == "lstrip" ? StripSide::Left : StripSide::Right;
    fn = [s, side, name](Interpreter&, CallArgs& a) {
      Args r(a, name, {"chars"});
      const Value c = r.get("chars", Value::none());
      if (c.is_none()) return Value::string(py_strip(s, side));
      return Value::string(py_strip(s, side, true, want_string(c, name + " arg")));
    };
  } else if (name == "split") {
    fn = [s](Interpreter& in, CallArgs& a) {
      Args r(a, "split", {"sep", "maxsplit"});
      const Value sep = r.get("sep", Value::none());
      const std::int64_t maxsplit = want_int(r.get("maxsplit", Value::integer(-1)), "maxsplit");
      std::vector<Value> out;
      for (auto& p : py_split(s, !sep.is_none(), sep.is_none() ? "" : want_string(sep, "sep"), maxsplit)) {
        in.step();
        out.push_back(Value::string(std::move(p)));
      }
      return list_of(std::move(out));
    };
  } else if (name == "upper" || name == "lower" || name == "title" || name == "capitalize") {
    fn = [s, name](Interpreter&, CallArgs& a) {
      Args r(a, name, {});
      const std::string what = "str." + name + "()";
      if (name == "upper") return Value::string(py_upper(s, what.c_str()));
      if (name == "lower") return Value::string(py_lower(s, what.c_str()));
      if (name == "title") return Value::string(py_title(s, what.c_str()));
      return Value::string(py_capitalize(s, what.c_str()));
    };
  } else if (name == "startswith" || name == "endswith") {
    fn = [s, name](Interpreter&, CallArgs& a) {
      if (a.args.size() != 1 || !a.kwargs.empty()) fail("Unsupported", "str." + name + "() with start/end arguments");
      return Value::boolean(prefix_match(s, a.args[0], name == "endswith"));
    };
  } else if (name == "replace") {
    fn = [s](Interpreter& in, CallArgs& a) {
      Args r(a, "replace", {"old", "new", "count"});
      const std::string o = want_string(r.required("old"), "replace() argument 1");
      const std::string n = want_string(r.required("new"), "replace() argument 2");
      const std::int64_t count = want_int(r.get("count", Value::integer(-1)), "count");
      if (!o.empty() && n.size() > o.size()) in.check_size(s.size() / o.size() * n.size() + s.size());
      if (o.empty()) in.check_size((s.size() + 1) * (n.size() + 4));
      return Value::string(py_replace(s, o, n, count));
    };
  } else if (name == "find" || name == "count") {
    fn = [s, name](Interpreter&, CallArgs& a) {
      if (a.args.size() != 1 || !a.kwargs.empty()) fail("Unsupported", "str." + name + "() with start/end arguments");
      const std::string sub = want_string(a.args[0], name + " arg");
      if (name == "find") {
        const auto p = s.find(sub);
        return Value::integer(p == std::string::npos ? -1
                                                     : static_cast<std::int64_t>(count_code_points(s.substr(0, p))));
      }
      if (sub.empty()) return Value::integer(static_cast<std::int64_t>(count_code_points(s)) + 1);
      std::int64_t n = 0;
      for (std::size_t p = s.find(sub); p != std::string::npos; p = s.find(sub, p + sub.size())) ++n;
      return Value::integer(n);
    };
  } else if (name == "join") {
    fn = [s](Interpreter& in, CallArgs& a) {
      Args r(a, "join", {"iterable"});
      std::string out;
      bool first = true;
      for (const auto& x : iterate(r.required("iterable"))) {
        if (!x.is_string()) fail("TypeError", "sequence item: expected str instance, " + x.type_name() + " found");
        if (!first) out += s;
        first = false;
        out += x.str();
        in.check_size(out.size());
      }
      return Value::string(std::move(out));
    };
  } else if (name == "format") {
    fn = [s](Interpreter& in, CallArgs& a) {
      std::string out = str_format(s, a);
      in.check_size(out.size());
      return Value::string(std::move(out));
    };
  } else if (name == "isdigit" || name == "isspace" || name == "isalpha" || name == "isalnum") {
    fn = [s, name](Interpreter&, CallArgs& a) {
      Args r(a, name, {});
      if (s.empty()) return Value::boolean(false);
      for (char32_t cp : decode_utf8(s)) {
        if (name == "isspace") {
          if (!is_python_space(cp)) return Value::boolean(false);
          continue;
        }
        if (cp >= 0x80) fail("Unsupported", "str." + name + "() of non-ASCII text");
        const bool d = cp >= '0' && cp <= '9';
        const bool l = (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z');
        const bool ok = name == "isdigit" ? d : name == "isalpha" ? l : (d || l);
        if (!ok) return Value::boolean(false);
      }
      return Value::boolean(true);
    };
  } else if (python_str_methods().count(name)) {
    fn = [name](Interpreter&, CallArgs&) -> Value { fail("Unsupported", "the string method '" + name + "'"); };
  } else {
    return Value::undefined(no_attribute(self, name));
  }
  return Value::callable("str." + name, std::move(fn));
}

Value dict_method(const Value& self, const std::string& name) {
  if (name == "items" || name == "keys" || name == "values") {
    return Value::callable("dict." + name, [self, name](Interpreter&, CallArgs& a) {
      Args r(a, name, {});
      std::vector<Value> out;
      for (const auto& [k, v] : self.dict_value().items) {
        if (name == "items")
          out.push_back(Value::tuple({Value::string(k), v}));
        else if (name == "keys")
          out.push_back(Value::string(k));
        else
          out.push_back(v);
      }
      return list_of(std::move(out));
    });
  }
  if (name == "get") {
    return Value::callable("dict.get", [self](Interpreter&, CallArgs& a) {
      if (!a.kwargs.empty() || a.args.empty() || a.args.size() > 2) fail("TypeError", "get expected 1 or 2 arguments");
      const Value dflt = a.args.size() > 1 ? a.args[1] : Value::none();
      if (!a.args[0].is_string()) return dflt;
      const Value* v = self.dict_value().find(a.args[0].str());
      return v ? *v : dflt;
    });
  }
  static const std::set<std::string> mutating = {"pop", "popitem", "setdefault", "update", "clear"};
  if (mutating.count(name))
    return Value::callable("dict." + name, [name](Interpreter&, CallArgs&) -> Value {
      fail("SecurityError", "access to attribute '" + name + "' of 'dict' object is unsafe.");
    });
  if (name == "copy" || name == "fromkeys")
    return Value::callable("dict." + name, [name](Interpreter&, CallArgs&) -> Value {
      fail("Unsupported", "the dict method '" + name + "'");
    });
  return Value();
}

Value list_method(const Value& self, const std::string& name) {
  static const std::set<std::string> mutating = {"append", "extend", "insert",  "pop",
                                                 "remove", "sort",   "reverse", "clear"};
  if (mutating.count(name))
    return Value::callable("list." + name, [name, self](Interpreter&, CallArgs&) -> Value {
      fail("SecurityError", "access to attribute '" + name + "' of '" + self.type_name() + "' object is unsafe.");
    });
  if (name == "index" || name == "count" || name == "copy")
    return Value::callable("list." + name, [name](Interpreter&, CallArgs&) -> Value {
      fail("Unsupported", "the list method '" + name + "'");
    });
  return Value::undefined(no_attribute(self, name));
}

}  // namespace

bool jinja_has_filter(const std::string& name) {
  return jinja_filters().count(name) > 0;
}
bool jinja_has_test(const std::string& name) {
  return jinja_tests().count(name) > 0;
}
bool filter_supported(const std::string& name) {
  return supported_filters().count(name) > 0;
}
bool test_supported(const std::string& name) {
  return name != "escaped";
}

Value get_attribute(const Value& obj, const std::string& name) {
  switch (obj.kind()) {
    case Value::Kind::Undefined: fail_undefined(obj);
    case Value::Kind::String: return string_method(obj, name);
    case Value::Kind::Dict: {
      Value m = dict_method(obj, name);
      if (!m.is_undefined()) return m;
      const Value* v = obj.dict_value().find(name);
      return v ? *v : Value::undefined(no_attribute(obj, name));
    }
    case Value::Kind::Namespace: {
      const Value* v = obj.dict_value().find(name);
      return v ? *v : Value::undefined(no_attribute(obj, name));
    }
    case Value::Kind::List:
    case Value::Kind::Tuple: return list_method(obj, name);
    default: return Value::undefined(no_attribute(obj, name));
  }
}

Value get_item(const Value& obj, const Value& key) {
  switch (obj.kind()) {
    case Value::Kind::Undefined: fail_undefined(obj);
    case Value::Kind::Dict:
    case Value::Kind::Namespace: {
      if (!key.is_string()) return Value::undefined(no_element(obj, key));
      const Value* v = obj.dict_value().find(key.str());
      if (v) return *v;
      if (obj.kind() == Value::Kind::Dict) {
        Value m = dict_method(obj, key.str());
        if (!m.is_undefined()) return m;
      }
      return Value::undefined(no_attribute(obj, key.str()));
    }
    case Value::Kind::List:
    case Value::Kind::Tuple:
    case Value::Kind::String: {
      if (key.is_string()) return get_attribute(obj, key.str());
      if (!key.is_int()) return Value::undefined(no_element(obj, key));
      std::int64_t i = key.as_int();
      if (obj.is_string()) {
        const auto cps = decode_utf8(obj.str());
        const auto n = static_cast<std::int64_t>(cps.size());
        if (i < 0) i += n;
        if (i < 0 || i >= n) return Value::undefined(no_element(obj, key));
        std::string out;
        append_utf8(out, cps[static_cast<std::size_t>(i)]);
        return Value::string(std::move(out));
      }
      const auto n = static_cast<std::int64_t>(obj.items().size());
      if (i < 0) i += n;
      if (i < 0 || i >= n) return Value::undefined(no_element(obj, key));
      return obj.items()[static_cast<std::size_t>(i)];
    }
    default:
      if (key.is_string()) return get_attribute(obj, key.str());
      return Value::undefined(no_element(obj, key));
  }
}

namespace {

// jinja's make_attrgetter: "a.b.0" looked up item by item.
Value attribute_path(const Value& obj, const Value& attribute) {
  if (attribute.is_int()) return get_item(obj, attribute);
  const std::string path = want_string(attribute, "attribute");
  Value cur = obj;
  std::size_t pos = 0;
  while (true) {
    const auto dot = path.find('.', pos);
    const std::string part = path.substr(pos, dot == std::string::npos ? std::string::npos : dot - pos);
    const bool digits =
        !part.empty() && std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (cur.is_undefined()) fail_undefined(cur);
    cur = digits && part.size() < 18 ? get_item(cur, Value::integer(std::strtoll(part.c_str(), nullptr, 10)))
                                     : get_item(cur, Value::string(part));
    if (dot == std::string::npos) break;
    pos = dot + 1;
  }
  return cur;
}

std::string html_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&#34;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::vector<std::string> splitlines(const std::string& s) {
  std::vector<std::string> out;
  const auto cps = decode_utf8(s);
  std::vector<char32_t> cur;
  for (std::size_t i = 0; i < cps.size(); ++i) {
    const char32_t c = cps[i];
    const bool brk = c == '\n' || c == '\r' || c == 0x0B || c == 0x0C || c == 0x1C || c == 0x1D || c == 0x1E ||
                     c == 0x85 || c == 0x2028 || c == 0x2029;
    if (!brk) {
      cur.push_back(c);
      continue;
    }
    if (c == '\r' && i + 1 < cps.size() && cps[i + 1] == '\n') ++i;
    out.push_back(encode_utf8(cur));
    cur.clear();
  }
  if (!cur.empty()) out.push_back(encode_utf8(cur));
  return out;
}

// Python float(str): surrounding whitespace, underscores between digits, inf / nan.
std::optional<double> parse_python_float(const std::string& text) {
  std::string s = py_strip(text, StripSide::Both);
  std::string t;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '_') {
      if (i == 0 || i + 1 >= s.size() || !std::isdigit(static_cast<unsigned char>(s[i - 1])) ||
          !std::isdigit(static_cast<unsigned char>(s[i + 1])))
        return std::nullopt;
      continue;
    }
    t += s[i];
  }
  if (t.empty()) return std::nullopt;
  std::string low = py_lower(t, "float()");
  std::string body = low;
  double sign = 1;
  if (!body.empty() && (body[0] == '+' || body[0] == '-')) {
    if (body[0] == '-') sign = -1;
    body.erase(0, 1);
  }
  if (body == "inf" || body == "infinity") return sign * HUGE_VAL;
  if (body == "nan") return std::nan("");
  for (char c : body)
    if (!(std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == 'e' || c == '+' || c == '-'))
      return std::nullopt;
  char* end = nullptr;
  const double v = std::strtod(t.c_str(), &end);
  if (end != t.c_str() + t.size()) return std::nullopt;
  return v;
}

std::optional<std::int64_t> parse_python_int(const std::string& text, std::int64_t base) {
  std::string s = py_strip(text, StripSide::Both);
  std::string t;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '_') {
      if (i == 0 || i + 1 >= s.size()) return std::nullopt;
      continue;
    }
    t += s[i];
  }
  if (t.empty() || base < 2 || base > 36) return std::nullopt;
  std::size_t i = 0;
  if (t[0] == '+' || t[0] == '-') i = 1;
  if (i >= t.size()) return std::nullopt;
  for (std::size_t k = i; k < t.size(); ++k)
    if (!std::isalnum(static_cast<unsigned char>(t[k]))) return std::nullopt;
  errno = 0;
  char* end = nullptr;
  const long long v = std::strtoll(t.c_str(), &end, static_cast<int>(base));
  if (end != t.c_str() + t.size()) return std::nullopt;
  if (errno == ERANGE) fail("Unsupported", "integers beyond 64 bits");
  return v;
}

std::vector<Value> select_items(Interpreter& in, const std::string& fname, const Value& seq, CallArgs& a,
                                bool with_attr, bool keep_if) {
  std::size_t k = 0;
  Value attribute;
  if (with_attr) {
    if (a.args.empty()) fail("TypeError", fname + "() missing the attribute argument");
    attribute = a.args[k++];
  }
  std::string test;
  CallArgs test_args;
  if (k < a.args.size()) {
    test = want_string(a.args[k++], fname + " test name");
    if (!jinja_has_test(test)) fail("TemplateRuntimeError", "No test named '" + test + "'.");
    if (!test_supported(test)) fail("Unsupported", "the test '" + test + "'");
    test_args.args.assign(a.args.begin() + static_cast<std::ptrdiff_t>(k), a.args.end());
    test_args.kwargs = a.kwargs;
  }
  std::vector<Value> out;
  for (const auto& item : iterate(seq)) {
    in.step();
    const Value subject = with_attr ? attribute_path(item, attribute) : item;
    CallArgs ta = test_args;
    const bool r = test.empty() ? truthy(subject) : apply_test(in, test, subject, ta);
    if (r == keep_if) out.push_back(item);
  }
  return out;
}

Value tojson_filter(Interpreter& in, const Value& subject, CallArgs& a) {
  Args r(a, "tojson", {"ensure_ascii", "indent", "separators", "sort_keys"});
  const bool ensure_ascii = truthy(r.get("ensure_ascii", Value::boolean(false)));
  JsonOptions o;
  const Value indent = r.get("indent", Value::none());
  if (indent.is_int()) {
    o.indent = std::string(static_cast<std::size_t>(std::clamp<std::int64_t>(indent.as_int(), 0, 1024)), ' ');
  } else if (indent.is_string()) {
    o.indent = indent.str();
  } else if (!indent.is_none()) {
    fail("TypeError", "tojson indent must be an int, a str or None");
  }
  if (o.indent) o.item_separator = ",";
  const Value sep = r.get("separators", Value::none());
  if (!sep.is_none()) {
    if (!sep.is_sequence() || sep.items().size() != 2 || !sep.items()[0].is_string() || !sep.items()[1].is_string())
      fail("ValueError", "tojson separators must be a (item_separator, key_separator) pair of strings");
    o.item_separator = sep.items()[0].str();
    o.key_separator = sep.items()[1].str();
  }
  o.sort_keys = truthy(r.get("sort_keys", Value::boolean(false)));
  std::string out = to_json(subject, o);
  in.check_size(out.size());
  if (!ensure_ascii) return Value::string(std::move(out));
  std::string esc;
  for (char32_t cp : decode_utf8(out)) {
    if (cp < 0x80) {
      esc += static_cast<char>(cp);
      continue;
    }
    char b[16];
    if (cp >= 0x10000) {
      const char32_t v = cp - 0x10000;
      std::snprintf(b, sizeof b, "\\u%04x\\u%04x", static_cast<unsigned>(0xD800 + (v >> 10)),
                    static_cast<unsigned>(0xDC00 + (v & 0x3FF)));
    } else {
      std::snprintf(b, sizeof b, "\\u%04x", static_cast<unsigned>(cp));
    }
    esc += b;
  }
  return Value::string(std::move(esc));
}

Value round_filter(const Value& v, CallArgs& a) {
  Args r(a, "round", {"precision", "method"});
  const std::int64_t precision = want_int(r.get("precision", Value::integer(0)), "precision");
  const std::string method = want_string(r.get("method", Value::string("common")), "method");
  if (method != "common" && method != "ceil" && method != "floor")
    fail("FilterArgumentError", "method must be common, ceil or floor");
  if (v.is_undefined()) fail_undefined(v);
  if (!v.is_number()) fail("TypeError", "type " + v.type_name() + " doesn't define __round__ method");
  if (precision < -300 || precision > 300) fail("Unsupported", "round() precision beyond 300 digits");
  if (method == "common") {
    if (v.is_int()) {
      if (precision >= 0) return Value::integer(v.as_int());
      fail("Unsupported", "round() of an integer to a negative precision");
    }
    const double d = v.as_double();
    if (!std::isfinite(d)) return Value::floating(d);
    if (precision == 0) return Value::floating(std::nearbyint(d));
    if (precision < 0) fail("Unsupported", "round() to a negative precision");
    char buf[512];
    std::snprintf(buf, sizeof buf, "%.*f", static_cast<int>(precision), d);
    return Value::floating(std::strtod(buf, nullptr));
  }
  const double scale = std::pow(10.0, static_cast<double>(precision));
  const double x = v.as_double() * scale;
  const double f = method == "ceil" ? std::ceil(x) : std::floor(x);
  return Value::floating(f / scale);
}

Value min_max(Interpreter& in, const Value& v, CallArgs& a, bool want_max) {
  Args r(a, want_max ? "max" : "min", {"case_sensitive", "attribute"});
  const bool cs = truthy(r.get("case_sensitive", Value::boolean(false)));
  const auto attr = r.opt("attribute");
  const auto items = iterate(v);
  if (items.empty()) return Value::undefined(std::string("No aggregated item, sequence was empty."));
  auto key = [&](const Value& x) {
    Value k = attr ? attribute_path(x, *attr) : x;
    if (!cs && k.is_string()) return Value::string(py_lower(k.str(), want_max ? "max" : "min"));
    return k;
  };
  std::size_t best = 0;
  Value best_key = key(items[0]);
  for (std::size_t i = 1; i < items.size(); ++i) {
    in.step();
    Value k = key(items[i]);
    const int c = compare(k, best_key, want_max ? ">" : "<");
    if (want_max ? c > 0 : c < 0) {
      best = i;
      best_key = std::move(k);
    }
  }
  return items[best];
}

}  // namespace

Value apply_filter(Interpreter& in, const std::string& name, const Value& v, CallArgs& a) {
  const std::string what = "the " + name + " filter";
  if (name == "default" || name == "d") {
    Args r(a, name, {"default_value", "boolean"});
    const bool boolean = truthy(r.get("boolean", Value::boolean(false)));
    if (v.is_undefined() || (boolean && !truthy(v))) return r.get("default_value", Value::string(""));
    return v;
  }
  if (name == "length" || name == "count") {
    Args r(a, name, {});
    return Value::integer(static_cast<std::int64_t>(length(v)));
  }
  if (name == "trim") {
    Args r(a, name, {"chars"});
    const Value c = r.get("chars", Value::none());
    if (c.is_none()) return Value::string(py_strip(to_str(v), StripSide::Both));
    return Value::string(py_strip(to_str(v), StripSide::Both, true, want_string(c, "trim chars")));
  }
  if (name == "upper") return Args(a, name, {}), Value::string(py_upper(to_str(v), what.c_str()));
  if (name == "lower") return Args(a, name, {}), Value::string(py_lower(to_str(v), what.c_str()));
  if (name == "capitalize") return Args(a, name, {}), Value::string(py_capitalize(to_str(v), what.c_str()));
  if (name == "title") return Args(a, name, {}), Value::string(jinja_title(to_str(v), what.c_str()));
  if (name == "string") return Args(a, name, {}), Value::string(to_str(v));
  if (name == "safe") return Args(a, name, {}), Value::string(to_str(v));
  if (name == "e" || name == "escape" || name == "forceescape") {
    Args r(a, name, {});
    return Value::string(html_escape(to_str(v)));
  }
  if (name == "tojson") return tojson_filter(in, v, a);
  if (name == "join") {
    Args r(a, name, {"d", "attribute"});
    const std::string sep = to_str(r.get("d", Value::string("")));
    const auto attr = r.opt("attribute");
    std::string out;
    bool first = true;
    for (const auto& x : iterate(v)) {
      in.step();
      if (!first) out += sep;
      first = false;
      out += to_str(attr && !attr->is_none() ? attribute_path(x, *attr) : x);
      in.check_size(out.size());
    }
    return Value::string(std::move(out));
  }
  if (name == "first" || name == "last") {
    Args r(a, name, {});
    const auto items = iterate(v);
    if (items.empty()) return Value::undefined(std::string("No ") + name + " item, sequence was empty.");
    return name == "first" ? items.front() : items.back();
  }
  if (name == "list") return Args(a, name, {}), list_of(iterate(v));
  if (name == "reverse") {
    Args r(a, name, {});
    if (v.is_string()) {
      auto cps = decode_utf8(v.str());
      std::reverse(cps.begin(), cps.end());
      return Value::string(encode_utf8(cps));
    }
    auto items = iterate(v);
    std::reverse(items.begin(), items.end());
    return list_of(std::move(items));
  }
  if (name == "items") {
    Args r(a, name, {});
    if (v.is_undefined()) return list_of({});
    if (!v.is_dict()) fail("TypeError", "Can only get item pairs from a mapping.");
    std::vector<Value> out;
    for (const auto& [k, x] : v.dict_value().items) out.push_back(Value::tuple({Value::string(k), x}));
    return list_of(std::move(out));
  }
  if (name == "int") {
    Args r(a, name, {"default", "base"});
    const Value dflt = r.get("default", Value::integer(0));
    const std::int64_t base = want_int(r.get("base", Value::integer(10)), "base");
    if (v.is_string()) {
      if (auto x = parse_python_int(v.str(), base)) return Value::integer(*x);
      if (auto f = parse_python_float(v.str()); f && std::isfinite(*f) && std::fabs(*f) < 9.2e18)
        return Value::integer(static_cast<std::int64_t>(*f));
      return dflt;
    }
    if (v.is_int()) return Value::integer(v.as_int());
    if (v.kind() == Value::Kind::Float) {
      const double d = v.as_double();
      if (!std::isfinite(d)) return dflt;
      if (std::fabs(d) >= 9.2e18) fail("Unsupported", "integers beyond 64 bits");
      return Value::integer(static_cast<std::int64_t>(d));
    }
    return dflt;
  }
  if (name == "float") {
    Args r(a, name, {"default"});
    const Value dflt = r.get("default", Value::floating(0.0));
    if (v.is_number()) return Value::floating(v.as_double());
    if (v.is_string()) {
      if (auto f = parse_python_float(v.str())) return Value::floating(*f);
    }
    return dflt;
  }
  if (name == "abs") {
    Args r(a, name, {});
    if (v.is_undefined()) fail_undefined(v);
    if (v.kind() == Value::Kind::Float) return Value::floating(std::fabs(v.as_double()));
    if (v.is_int()) {
      if (v.as_int() == INT64_MIN) fail("Unsupported", "integers beyond 64 bits");
      return Value::integer(v.as_int() < 0 ? -v.as_int() : v.as_int());
    }
    fail("TypeError", "bad operand type for abs(): '" + v.type_name() + "'");
  }
  if (name == "round") return round_filter(v, a);
  if (name == "replace") {
    Args r(a, name, {"old", "new", "count"});
    const std::string s = to_str(v);
    const std::string o = to_str(r.required("old"));
    const std::string n = to_str(r.required("new"));
    const Value c = r.get("count", Value::none());
    if (!o.empty() && n.size() > o.size()) in.check_size(s.size() / o.size() * n.size() + s.size());
    if (o.empty()) in.check_size((s.size() + 1) * (n.size() + 4));
    return Value::string(py_replace(s, o, n, c.is_none() ? -1 : want_int(c, "count")));
  }
  if (name == "indent") {
    Args r(a, name, {"width", "first", "blank"});
    const Value width = r.get("width", Value::integer(4));
    std::string ind;
    if (width.is_string()) {
      ind = width.str();
    } else {
      const std::int64_t w = want_int(width, "indent width");
      ind = std::string(static_cast<std::size_t>(std::clamp<std::int64_t>(w, 0, 4096)), ' ');
    }
    const bool first = truthy(r.get("first", Value::boolean(false)));
    const bool blank = truthy(r.get("blank", Value::boolean(false)));
    const std::string s = to_str(v) + "\n";
    const auto lines = splitlines(s);
    in.check_size(s.size() + lines.size() * ind.size());
    std::string out;
    if (blank) {
      for (std::size_t i = 0; i < lines.size(); ++i) out += (i ? "\n" + ind : std::string()) + lines[i];
    } else {
      out = lines.empty() ? std::string() : lines[0];
      for (std::size_t i = 1; i < lines.size(); ++i) out += "\n" + (lines[i].empty() ? std::string() : ind) + lines[i];
    }
    if (first) out = ind + out;
    return Value::string(std::move(out));
  }
  if (name == "map") {
    std::vector<Value> out;
    const auto items = iterate(v);
    bool by_attr = false;
    Value attribute, dflt;
    for (const auto& [k, x] : a.kwargs) {
      if (k == "attribute") {
        by_attr = true;
        attribute = x;
      } else if (k == "default") {
        dflt = x;
      } else if (a.args.empty()) {
        fail("TypeError", "map() got an unexpected keyword argument '" + k + "'");
      }
    }
    if (by_attr) {
      for (const auto& x : items) {
        in.step();
        Value y = attribute_path(x, attribute);
        out.push_back(y.is_undefined() && !dflt.is_undefined() ? dflt : y);
      }
      return list_of(std::move(out));
    }
    if (a.args.empty()) fail("FilterArgumentError", "map requires a filter argument");
    const std::string fname = want_string(a.args[0], "map filter name");
    if (!jinja_has_filter(fname)) fail("TemplateRuntimeError", "No filter named '" + fname + "'.");
    if (!filter_supported(fname)) fail("Unsupported", "the filter '" + fname + "'");
    CallArgs rest;
    rest.args.assign(a.args.begin() + 1, a.args.end());
    rest.kwargs = a.kwargs;
    for (const auto& x : items) {
      in.step();
      CallArgs ra = rest;
      out.push_back(apply_filter(in, fname, x, ra));
    }
    return list_of(std::move(out));
  }
  if (name == "select" || name == "reject") return list_of(select_items(in, name, v, a, false, name == "select"));
  if (name == "selectattr" || name == "rejectattr")
    return list_of(select_items(in, name, v, a, true, name == "selectattr"));
  if (name == "sort") {
    Args r(a, name, {"reverse", "case_sensitive", "attribute"});
    const bool rev = truthy(r.get("reverse", Value::boolean(false)));
    const bool cs = truthy(r.get("case_sensitive", Value::boolean(false)));
    const auto attr = r.opt("attribute");
    auto items = iterate(v);
    std::vector<std::pair<Value, Value>> keyed;
    for (auto& x : items) {
      Value k = attr && !attr->is_none() ? attribute_path(x, *attr) : x;
      if (!cs && k.is_string()) k = Value::string(py_lower(k.str(), "the sort filter"));
      keyed.emplace_back(std::move(k), x);
    }
    std::stable_sort(keyed.begin(), keyed.end(), [&](const auto& p, const auto& q) {
      in.step();
      return rev ? compare(q.first, p.first, "<") < 0 : compare(p.first, q.first, "<") < 0;
    });
    std::vector<Value> out;
    for (auto& kv : keyed) out.push_back(std::move(kv.second));
    return list_of(std::move(out));
  }
  if (name == "sum") {
    Args r(a, name, {"attribute", "start"});
    const auto attr = r.opt("attribute");
    Value total = r.get("start", Value::integer(0));
    for (const auto& x : iterate(v)) {
      in.step();
      const Value y = attr && !attr->is_none() ? attribute_path(x, *attr) : x;
      if (!total.is_number() || !y.is_number())
        fail("TypeError", "unsupported operand type(s) for +: '" + total.type_name() + "' and '" + y.type_name() + "'");
      if (total.is_int() && y.is_int()) {
        std::int64_t s = 0;
        if (__builtin_add_overflow(total.as_int(), y.as_int(), &s)) fail("Unsupported", "integers beyond 64 bits");
        total = Value::integer(s);
      } else {
        total = Value::floating(total.as_double() + y.as_double());
      }
    }
    return total;
  }
  if (name == "max" || name == "min") return min_max(in, v, a, name == "max");
  if (name == "attr") {
    Args r(a, name, {"name"});
    const std::string n = want_string(r.required("name"), "attr name");
    if (v.is_undefined()) fail_undefined(v);
    if (v.is_dict()) {
      Value m = dict_method(v, n);
      return m.is_undefined() ? Value::undefined(no_attribute(v, n)) : m;
    }
    return get_attribute(v, n);
  }
  if (name == "wordcount") {
    Args r(a, name, {});
    // jinja: len(re.findall(r"\w+", s)) on ASCII word characters; non-ASCII text is refused
    const std::string s = to_str(v);
    std::int64_t n = 0;
    bool in_word = false;
    for (unsigned char c : s) {
      if (c >= 0x80) fail("Unsupported", "the wordcount filter on non-ASCII text");
      const bool w = std::isalnum(c) || c == '_';
      if (w && !in_word) ++n;
      in_word = w;
    }
    return Value::integer(n);
  }
  fail("Unsupported", "the filter '" + name + "'");
}

bool apply_test(Interpreter& in, const std::string& name, const Value& v, CallArgs& a) {
  (void)in;
  auto one_arg = [&]() -> Value {
    if (a.args.size() + a.kwargs.size() != 1) fail("TypeError", "the test '" + name + "' takes one argument");
    return a.args.empty() ? a.kwargs[0].second : a.args[0];
  };
  auto no_args = [&]() {
    if (!a.args.empty() || !a.kwargs.empty()) fail("TypeError", "the test '" + name + "' takes no arguments");
  };
  using K = Value::Kind;
  if (name == "defined") return no_args(), !v.is_undefined();
  if (name == "undefined") return no_args(), v.is_undefined();
  if (name == "none") return no_args(), v.is_none();
  if (name == "boolean") return no_args(), v.kind() == K::Bool;
  if (name == "true") return no_args(), v.kind() == K::Bool && v.as_bool();
  if (name == "false") return no_args(), v.kind() == K::Bool && !v.as_bool();
  if (name == "string") return no_args(), v.is_string();
  if (name == "number") return no_args(), v.is_number();
  if (name == "integer") return no_args(), v.kind() == K::Int;
  if (name == "float") return no_args(), v.kind() == K::Float;
  if (name == "mapping") return no_args(), v.is_dict();
  if (name == "iterable") return no_args(), v.is_undefined() || v.is_string() || v.is_sequence() || v.is_dict();
  if (name == "sequence") return no_args(), v.is_undefined() || v.is_string() || v.is_sequence() || v.is_dict();
  if (name == "callable") return no_args(), v.kind() == K::Callable;
  if (name == "odd" || name == "even") {
    no_args();
    if (v.is_undefined()) fail_undefined(v);
    if (!v.is_int()) fail("TypeError", "the test '" + name + "' needs an integer, not " + v.type_name());
    const bool odd = (v.as_int() % 2) != 0;
    return name == "odd" ? odd : !odd;
  }
  if (name == "divisibleby") {
    const Value n = one_arg();
    if (v.is_undefined()) fail_undefined(v);
    if (!v.is_number() || !n.is_number()) fail("TypeError", "divisibleby needs numbers");
    if (n.as_double() == 0) fail("ZeroDivisionError", "integer division or modulo by zero");
    if (v.is_int() && n.is_int()) return n.as_int() == -1 || v.as_int() % n.as_int() == 0;
    return std::fmod(v.as_double(), n.as_double()) == 0;
  }
  if (name == "eq" || name == "equalto") return equals(v, one_arg());
  if (name == "ne") return !equals(v, one_arg());
  if (name == "lt" || name == "lessthan") return compare(v, one_arg(), "<") < 0;
  if (name == "le") return compare(v, one_arg(), "<=") <= 0;
  if (name == "gt" || name == "greaterthan") return compare(v, one_arg(), ">") > 0;
  if (name == "ge") return compare(v, one_arg(), ">=") >= 0;
  if (name == "in") return contains(one_arg(), v);
  if (name == "sameas") {
    const Value o = one_arg();
    if (v.kind() == K::None || v.kind() == K::Bool || v.kind() == K::Undefined || o.kind() == K::None ||
        o.kind() == K::Bool || o.kind() == K::Undefined)
      return v.kind() == o.kind() && (v.kind() != K::Bool || v.as_bool() == o.as_bool());
    if ((v.is_sequence() || v.is_dict() || v.kind() == K::Namespace) && v.kind() == o.kind())
      return v.is_sequence() ? &v.items() == &o.items() : &v.dict_value() == &o.dict_value();
    if (v.kind() != o.kind()) return false;
    fail("Unsupported", "the test 'sameas' on numbers or strings (Python object identity)");
  }
  if (name == "lower" || name == "upper") {
    no_args();
    const std::string s = to_str(v);
    const std::string l = py_lower(s, "the lower test"), u = py_upper(s, "the upper test");
    bool cased = false;
    for (char c : s)
      if (std::isalpha(static_cast<unsigned char>(c))) cased = true;
    return cased && (name == "lower" ? s == l : s == u);
  }
  if (name == "filter") return jinja_has_filter(want_string(one_arg(), "filter name"));
  if (name == "test") return jinja_has_test(want_string(one_arg(), "test name"));
  fail("Unsupported", "the test '" + name + "'");
}

Dict make_globals() {
  Dict g;
  g.set("raise_exception", Value::callable("raise_exception", [](Interpreter&, CallArgs& a) -> Value {
          Args r(a, "raise_exception", {"message"});
          fail("TemplateError", to_str(r.required("message")));
        }));
  g.set("range", Value::callable("range", [](Interpreter& in, CallArgs& a) {
          if (!a.kwargs.empty() || a.args.empty() || a.args.size() > 3)
            fail("TypeError", "range expected 1 to 3 integer arguments");
          std::int64_t start = 0, stop = 0, step = 1;
          if (a.args.size() == 1) {
            stop = want_int(a.args[0], "range() argument");
          } else {
            start = want_int(a.args[0], "range() argument");
            stop = want_int(a.args[1], "range() argument");
            if (a.args.size() == 3) step = want_int(a.args[2], "range() argument");
          }
          if (step == 0) fail("ValueError", "range() arg 3 must not be zero");
          std::vector<Value> out;
          for (std::int64_t i = start; step > 0 ? i < stop : i > stop;) {
            in.step();
            out.push_back(Value::integer(i));
            if (__builtin_add_overflow(i, step, &i)) break;
          }
          return list_of(std::move(out));
        }));
  g.set("dict", Value::callable("dict", [](Interpreter&, CallArgs& a) {
          if (!a.args.empty()) fail("Unsupported", "dict() with positional arguments");
          Dict d;
          for (auto& [k, v] : a.kwargs) d.set(k, v);
          return Value::dict(std::move(d));
        }));
  g.set("namespace", Value::callable("namespace", [](Interpreter&, CallArgs& a) {
          Dict d;
          if (a.args.size() > 1) fail("TypeError", "namespace expected at most 1 positional argument");
          if (!a.args.empty()) {
            if (!a.args[0].is_dict()) fail("Unsupported", "namespace() from a non-dict positional argument");
            d = a.args[0].dict_value();
          }
          for (auto& [k, v] : a.kwargs) d.set(k, v);
          return Value::ns(std::move(d));
        }));
  g.set("strftime_now", Value::callable("strftime_now", [](Interpreter&, CallArgs& a) {
          Args r(a, "strftime_now", {"format"});
          const std::string fmt = want_string(r.required("format"), "strftime_now format");
          const std::time_t now = std::time(nullptr);
          std::tm tm{};
          localtime_r(&now, &tm);
          char buf[512];
          const std::size_t n = std::strftime(buf, sizeof buf, fmt.c_str(), &tm);
          if (n == 0 && !fmt.empty()) fail("Unsupported", "strftime_now format '" + fmt + "'");
          return Value::string(std::string(buf, n));
        }));
  for (const char* n : {"lipsum", "cycler", "joiner"}) {
    const std::string name = n;
    g.set(name, Value::callable(name, [name](Interpreter&, CallArgs&) -> Value {
            fail("Unsupported", "the global function '" + name + "'");
          }));
  }
  return g;
}

}  // namespace ortformers::chat_template::detail
