// Unit tests of the chat-template engine's pieces. Expected strings are what jinja2 3.1 renders with transformers'
// environment (ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True), its tojson, raise_exception).
#include <gtest/gtest.h>

#include "ortformers/chat_template/chat_template.hpp"

namespace ct = ortformers::chat_template;
using ct::OrderedJson;

namespace {

OrderedJson vars() {
  return OrderedJson::parse(R"({
    "messages": [{"role": "system", "content": "Sys ü"}, {"role": "user", "content": "  Hi there\n"},
                 {"role": "assistant", "content": "Yo", "tool_calls": [{"function": {"name": "f",
                  "arguments": {"b": 1, "a": [1.5, null, true]}}}]}],
    "bos_token": "<s>", "n": 7, "f": 2.5, "d": {"z": 1, "a": "x", "m": [1, 2]}, "s": "Hello World-foo bar",
    "e": "", "nul": null, "big": 1e16, "small": 1e-5, "t": true})");
}

std::string render(const std::string& source) {
  return ct::render_template(source, vars());
}

template <class E>
std::string error_of(const std::string& source) {
  try {
    (void)render(source);
  } catch (const E& e) {
    return e.what();
  } catch (const std::exception& e) {
    return std::string("wrong exception type: ") + e.what();
  }
  return "no error";
}

}  // namespace

TEST(ChatTemplateEngine, WhitespaceControlTrimAndLstripBlocks) {
  EXPECT_EQ(render("  {% if true %}\n    yes\n  {% endif %}\n  {%- if true -%}\n    trimmed\n  {%- endif %}\n"
                   "  {%+ if true %}keep{% endif %}\n{# comment #}\nafter"),
            "    yes\ntrimmed  keepafter");
  EXPECT_EQ(render("{%- for m in messages -%}\n  {{ m.role }}\n{%- endfor -%}"), "systemuserassistant");
  EXPECT_EQ(
      render("{{- bos_token -}}\n{% for m in messages %}\n    {% if m.role == 'user' %}\n        {{ m.content }}\n"
             "    {% endif %}\n{% endfor %}\ndone"),
      "<s>          Hi there\n\ndone");
  EXPECT_EQ(render("a\n"), "a");              // keep_trailing_newline=False
  EXPECT_EQ(render("a\r\nb"), "a\nb");        // newlines normalised
  EXPECT_EQ(render("{{ 'x' }}\ny"), "x\ny");  // trim_blocks does not apply to {{ }}
}

TEST(ChatTemplateEngine, LoopVariables) {
  EXPECT_EQ(render("{% for m in messages %}{{ loop.index }}/{{ loop.index0 }}/{{ loop.revindex }}/"
                   "{{ loop.revindex0 }}/{{ loop.first }}/{{ loop.last }}/{{ loop.length }} {% endfor %}"),
            "1/0/3/2/True/False/3 2/1/2/1/False/False/3 3/2/1/0/False/True/3 ");
  EXPECT_EQ(render("{% for m in messages if m.role != 'system' %}{{ loop.index }}:{{ m.role }} {% else %}none"
                   "{% endfor %}"),
            "1:user 2:assistant ");
  EXPECT_EQ(render("{% for m in [] %}x{% else %}empty{% endfor %}"), "empty");
  EXPECT_EQ(render("{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}|{% for k in d %}{{ k }}{% endfor %}"),
            "z=1;a=x;m=[1, 2];|zam");
  EXPECT_EQ(render("{% for i in range(5) %}{% if i == 3 %}{% break %}{% endif %}{% if i == 1 %}{% continue %}"
                   "{% endif %}{{ i }}{% endfor %}"),
            "02");
  EXPECT_EQ(render("{% for m in messages %}{{ loop.cycle('odd', 'even') }} {% endfor %}"), "odd even odd ");
  // a set inside a loop does not leak out of it; namespace attributes do
  EXPECT_EQ(render("{% set x = 1 %}{% for m in messages %}{% set x = 2 %}{% endfor %}{{ x }}"), "1");
  EXPECT_EQ(render("{% set ns = namespace(found=false, count=0) %}{% for m in messages %}{% if m.role == 'user' %}"
                   "{% set ns.found = true %}{% endif %}{% set ns.count = ns.count + 1 %}{% endfor %}"
                   "{{ ns.found }} {{ ns.count }}"),
            "True 3");
}

TEST(ChatTemplateEngine, PythonPrinting) {
  EXPECT_EQ(render("{{ 1.0 }} {{ 1 }} {{ True }} {{ none }} {{ [1, 'a', None, 2.5] }} {{ {'a': 1, 'b': \"it's\"} }} "
                   "{{ (1,) }} {{ (1, 2) }}"),
            "1.0 1 True None [1, 'a', None, 2.5] {'a': 1, 'b': \"it's\"} (1,) (1, 2)");
  EXPECT_EQ(render("{{ big }} {{ small }} {{ 0.1 + 0.2 }} {{ 1/3 }} {{ 10/2 }} {{ 7 // 2 }} {{ -7 // 2 }} "
                   "{{ -7 % 3 }} {{ 2 ** 10 }} {{ 2 ** -1 }} {{ 7.5 // 2 }}"),
            "1e+16 1e-05 0.30000000000000004 0.3333333333333333 5.0 3 -4 2 1024 0.5 3.0");
  EXPECT_EQ(render("{{ 'a' ~ 1 ~ none ~ undefined_var ~ [1] }}"), "a1None[1]");
  EXPECT_EQ(render("{{ d | string }} {{ {'k': none, 'b': true, 'f': 1.0} }}"),
            "{'z': 1, 'a': 'x', 'm': [1, 2]} {'k': None, 'b': True, 'f': 1.0}");
  EXPECT_EQ(render("{{ 1_000 }} {{ 1e3 }} {{ 2.5e-3 }} {{ 0.0001 }} {{ 123456789.123 }}"),
            "1000 1000.0 0.0025 0.0001 123456789.123");
}

TEST(ChatTemplateEngine, Filters) {
  EXPECT_EQ(render("{{ s | upper }}|{{ s | lower }}|{{ s | title }}|{{ s.title() }}|{{ s | capitalize }}"),
            "HELLO WORLD-FOO BAR|hello world-foo bar|Hello World-Foo Bar|Hello World-Foo Bar|Hello world-foo bar");
  EXPECT_EQ(render("{{ messages[1].content | trim }}|{{ messages | length }}|{{ s | count }}|"
                   "{{ messages | map(attribute='role') | join(', ') }}|"
                   "{{ messages | selectattr('role', 'equalto', 'user') | list | length }}|"
                   "{{ messages | rejectattr('role', 'equalto', 'user') | map(attribute='role') | list }}"),
            "Hi there|3|19|system, user, assistant|1|['system', 'assistant']");
  EXPECT_EQ(render("{{ [3, 1, 2] | sort }} {{ ['b', 'A', 'c'] | sort }} {{ [1, 2, 3] | sum }} {{ [1,5,2] | max }} "
                   "{{ [1, 2] | first }} {{ [1, 2] | last }} {{ 'abc' | reverse }}"),
            "[1, 2, 3] ['A', 'b', 'c'] 6 5 1 2 cba");
  EXPECT_EQ(render("{{ undefined_var | default('dflt') }} {{ e | default('dflt') }} {{ e | default('dflt', true) }} "
                   "{{ '3' | int + 1 }} {{ '3.7' | float }} {{ 'x' | int }} {{ 3.7 | int }} {{ 3.14159 | round(2) }} "
                   "{{ 2.5 | round }} {{ 3.5 | round }} {{ -3 | abs }} {{ 2.567 | round(1, 'floor') }}"),
            "dflt  dflt 4 3.7 0 3 3.14 2.0 4.0 3 2.5");
  EXPECT_EQ(render("{{ \"line1\\nline2\\n\\nline3\" | indent(2) }}|{{ \"a\\nb\" | indent(2, true) }}|"
                   "{{ \"<a href='x'>&</a>\" | e }}"),
            "line1\n  line2\n\n  line3|  a\n  b|&lt;a href=&#39;x&#39;&gt;&amp;&lt;/a&gt;");
  EXPECT_EQ(render("{{ [0, 1, '', 'a'] | select | list }} {{ [1, 2, 3, 4] | select('odd') | list }} "
                   "{{ messages | selectattr('tool_calls', 'defined') | list | length }}"),
            "[1, 'a'] [1, 3] 1");
}

TEST(ChatTemplateEngine, TojsonAsTransformers) {
  EXPECT_EQ(render("{{ d | tojson }}"), R"({"z": 1, "a": "x", "m": [1, 2]})");
  EXPECT_EQ(render("{{ d | tojson(indent=2) }}"), "{\n  \"z\": 1,\n  \"a\": \"x\",\n  \"m\": [\n    1,\n    2\n  ]\n}");
  EXPECT_EQ(render("{{ messages[2].tool_calls | tojson }}"),
            R"([{"function": {"name": "f", "arguments": {"b": 1, "a": [1.5, null, true]}}}])");
  EXPECT_EQ(render("{{ 'ü\"\\n\\t' | tojson }}"), "\"ü\\\"\\n\\t\"");  // ensure_ascii=False
  EXPECT_EQ(
      render("{{ d | tojson(sort_keys=true) }}|{{ [] | tojson(indent=2) }}|{{ d | tojson(separators=(',', ':')) }}"),
      R"({"a": "x", "m": [1, 2], "z": 1}|[]|{"z":1,"a":"x","m":[1,2]})");
  EXPECT_EQ(render("{{ messages[0].content | tojson(true) }}"), R"("Sys \u00fc")");  // positional ensure_ascii
  EXPECT_EQ(error_of<ct::TemplateRenderError>("{{ undefined_var | tojson }}"),
            "Object of type Undefined is not JSON serializable");
}

TEST(ChatTemplateEngine, UndefinedSemantics) {
  EXPECT_EQ(render("{{ undefined_var }}|{{ undefined_var is defined }}|{{ nul is none }}|"
                   "{% if undefined_var %}x{% else %}y{% endif %}"),
            "|False|True|y");
  EXPECT_EQ(render("{{ s[1] }}{{ s[100] }}|{{ s.foo }}|{{ d.z }}{{ d['nope'] }}|{{ messages[5] }}"), "e||1|");
  EXPECT_EQ(render("{{ undefined_var | length }} {{ undefined_var | list }} {{ undefined_var | trim }}"), "0 [] ");
  EXPECT_EQ(error_of<ct::TemplateRenderError>("{{ undefined_var + 'a' }}"), "'undefined_var' is undefined");
  EXPECT_EQ(error_of<ct::TemplateRenderError>("{{ undefined_var.foo }}"), "'undefined_var' is undefined");
  EXPECT_EQ(error_of<ct::TemplateRenderError>("{{ nul.strip() }}"), "'None' has no attribute 'strip'");
  EXPECT_EQ(error_of<ct::TemplateRenderError>("{{ 'a' + nul }}"), "can only concatenate str (not \"NoneType\") to str");
  EXPECT_EQ(render("{{ 'yes' if n > 5 else 'no' }} {{ 'yes' if n < 5 }}|"), "yes |");
}

TEST(ChatTemplateEngine, ExpressionsAndTests) {
  EXPECT_EQ(render("{{ n is odd }} {{ n is even }} {{ n is divisibleby 7 }} {{ n is number }} {{ f is float }} "
                   "{{ n is integer }} {{ s is string }} {{ d is mapping }} {{ messages is iterable }} "
                   "{{ t is boolean }} {{ t is true }} {{ nul is false }} {{ 'a' in s }} {{ 'z' not in d }}"),
            "True False True True True True True True True True True False True False");
  EXPECT_EQ(render("{{ 1 < 2 < 3 }} {{ 3 > 2 > 5 }} {{ [1, 2] == [1, 2] }} {{ 1 == 1.0 }} "
                   "{{ d == {'m': [1, 2], 'a': 'x', 'z': 1} }} {{ n or 'x' }} {{ e or 'x' }}"),
            "True False True True True 7 x");
  EXPECT_EQ(render("{{ messages[1:] | length }}|{{ s[::-1] }}|{{ s[2:5] }}|{{ s[-3:] }}|{{ [1,2,3][::2] }}"),
            "2|rab oof-dlroW olleH|llo|bar|[1, 3]");
  EXPECT_EQ(render("{{ 'x' * 3 }} {{ [1] * 2 }} {{ [1] + [2] }} {{ 5 - 2.5 }} {{ -n }}"), "xxx [1, 1] [1, 2] 2.5 -7");
  EXPECT_EQ(render("{{ s.split() }} {{ s.split('o', 1) }} {{ 'xxhixx'.strip('x') }} {{ s.endswith(('bar', 'q')) }} "
                   "{{ s.replace('o', '0', 1) }} {{ \"{} and {}\".format(1, 'b') }}"),
            "['Hello', 'World-foo', 'bar'] ['Hell', ' World-foo bar'] hi True Hell0 World-foo bar 1 and b");
  EXPECT_EQ(render("{% macro r(m, prefix='> ') %}{{ prefix }}{{ m.role }}{% endmacro %}{{ r(messages[0]) }}|"
                   "{{ r(messages[1], prefix='# ') }}"),
            "> system|# user");
  EXPECT_EQ(render("{% set content %}block {{ n }}{% endset %}[{{ content }}]{% set a, b = 1, 2 %}{{ a }}{{ b }}"),
            "[block 7]12");
  EXPECT_EQ(render("{{ 'a' 'b' }} {{ 'say \"hi\"' }} {{ [ 'q\"\\'' ] }} {{ ['\\n'] }} {{ '\\u00e9' }} {{ '\\x41' }}"),
            "ab say \"hi\" ['q\"\\''] ['\\n'] é A");
}

TEST(ChatTemplateEngine, RaiseExceptionAndRuntimeErrors) {
  EXPECT_EQ(error_of<ct::TemplateError>("{{ raise_exception('boom: ' ~ n) }}"), "boom: 7");
  try {
    (void)render("{{ 1 / 0 }}");
    FAIL();
  } catch (const ct::TemplateRenderError& e) {
    EXPECT_EQ(e.type, "ZeroDivisionError");
  }
  EXPECT_EQ(error_of<ct::TemplateRenderError>("{{ messages.append(1) }}"),
            "access to attribute 'append' of 'list' object is unsafe.");
  EXPECT_EQ(error_of<ct::TemplateRenderError>("{{ 'a' < 1 }}"),
            "'<' not supported between instances of 'str' and 'int'");
}

TEST(ChatTemplateEngine, SyntaxErrorsNameTheLine) {
  try {
    ct::ChatTemplate t("line one\n{% if x %}\n{{ 1 + }}\n{% endif %}");
    FAIL();
  } catch (const ct::TemplateSyntaxError& e) {
    EXPECT_EQ(e.line, 3);
    EXPECT_NE(std::string(e.what()).find("line 3"), std::string::npos) << e.what();
  }
  EXPECT_NE(error_of<ct::TemplateSyntaxError>("{% for x in y %}").find("expected 'else' or 'endfor'"),
            std::string::npos);
  EXPECT_NE(error_of<ct::TemplateSyntaxError>("{% endfor %}").find("unknown tag 'endfor'"), std::string::npos);
  EXPECT_NE(error_of<ct::TemplateSyntaxError>("{{ x | nosuchfilter }}").find("No filter named 'nosuchfilter'"),
            std::string::npos);
  EXPECT_NE(error_of<ct::TemplateSyntaxError>("{{ 'abc }}").find("unterminated string"), std::string::npos);
  EXPECT_NE(error_of<ct::TemplateSyntaxError>("{# never closed").find("comment"), std::string::npos);
  EXPECT_NE(error_of<ct::TemplateSyntaxError>("{% break %}").find("outside of a loop"), std::string::npos);
}

TEST(ChatTemplateEngine, UnsupportedConstructsAreNamedErrors) {
  const std::string inc = error_of<ortformers::UnsupportedError>("a\n{% include 'x' %}");
  EXPECT_NE(inc.find("{% include %}"), std::string::npos) << inc;
  EXPECT_NE(inc.find("line 2"), std::string::npos) << inc;
  EXPECT_NE(error_of<ortformers::UnsupportedError>("{{ 'Hello' | center(20) }}").find("'center'"), std::string::npos);
  EXPECT_NE(error_of<ortformers::UnsupportedError>("{% raw %}x{% endraw %}").find("raw"), std::string::npos);
  EXPECT_NE(error_of<ortformers::UnsupportedError>("{{ 'é' | upper }}").find("non-ASCII"), std::string::npos);
  EXPECT_NE(error_of<ortformers::UnsupportedError>("{{ '%s' % 1 }}").find("printf"), std::string::npos);
  EXPECT_NE(error_of<ortformers::UnsupportedError>("{{ 2 ** 70 }}").find("64 bits"), std::string::npos);
}

TEST(ChatTemplateEngine, LimitsStopRunawayTemplates) {
  ct::Limits limits;
  limits.max_steps = 10000;
  limits.max_string_bytes = 1 << 16;
  limits.max_depth = 64;
  auto error_type = [&](const std::string& src) {
    try {
      (void)ct::render_template(src, vars(), limits);
    } catch (const std::exception& e) {
      return ct::error_type_name(e);
    }
    return std::string("no error");
  };
  EXPECT_EQ(error_type("{% for i in range(1000000) %}{% for j in range(1000000) %}{% endfor %}{% endfor %}"),
            "LimitError");
  EXPECT_EQ(error_type("{{ 'x' * 100000000 }}"), "LimitError");
  EXPECT_EQ(error_type("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}"), "LimitError");
  EXPECT_EQ(error_type(std::string(500, '(') + "1" + std::string(500, ')')), "no error");  // plain text
  EXPECT_EQ(error_type("{{ " + std::string(500, '(') + "1" + std::string(500, ')') + " }}"), "UnsupportedError");
  EXPECT_EQ(error_type("{{ " + std::string(100000, '[') + " }}"), "UnsupportedError");
  EXPECT_EQ(error_type("{{ " + std::string(100000, '[')), "TemplateSyntaxError");  // no end of the tag
}
