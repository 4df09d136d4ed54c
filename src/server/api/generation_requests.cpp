#include "server/api/generation_requests.hpp"

#include <algorithm>
#include <set>

#include "server/api/requests.hpp"
#include "server/errors.hpp"

namespace ortformers::server {

namespace {

[[noreturn]] void invalid(const std::string& message) {
  throw ServerError(ErrorType::Deserialize, message);
}

void only_known(const Json& body, const std::set<std::string>& known, const std::string& where) {
  if (!body.is_object()) invalid(where + " must be a JSON object");
  for (const auto& [k, v] : body.items())
    if (!known.count(k)) invalid("unknown field `" + k + "` in " + where);
}

// "`key`", built without operator+ on a literal (GCC 12's -Wrestrict false positive).
std::string field(const char* key) {
  std::string s(1, '`');
  s.append(key);
  s.push_back('`');
  return s;
}

bool present(const Json& j, const char* key) {
  return j.contains(key) && !j.at(key).is_null();
}

double number(const Json& j, const char* key, double lo, double hi, const char* range) {
  const Json& v = j.at(key);
  if (!v.is_number()) invalid(field(key) + " must be a number, got " + v.dump());
  const double x = v.get<double>();
  if (!(x >= lo && x <= hi)) invalid(field(key) + " must be " + range + ", got " + v.dump());
  return x;
}

std::int64_t integer(const Json& j, const char* key, std::int64_t lo, std::int64_t hi) {
  const Json& v = j.at(key);
  if (!v.is_number_integer()) invalid(field(key) + " must be an integer, got " + v.dump());
  if (v.is_number_unsigned() && v.get<std::uint64_t>() > static_cast<std::uint64_t>(hi))
    invalid(field(key) + " must be <= " + std::to_string(hi) + ", got " + v.dump());
  const auto x = v.get<std::int64_t>();
  if (x < lo || x > hi)
    invalid(field(key) + " must be in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got " + v.dump());
  return x;
}

bool boolean(const Json& j, const char* key) {
  const Json& v = j.at(key);
  if (!v.is_boolean()) invalid(field(key) + " must be a boolean, got " + v.dump());
  return v.get<bool>();
}

std::uint64_t seed_of(const Json& j) {
  const Json& v = j.at("seed");
  if (!v.is_number_integer()) invalid("`seed` must be an integer, got " + v.dump());
  return v.is_number_unsigned() ? v.get<std::uint64_t>() : static_cast<std::uint64_t>(v.get<std::int64_t>());
}

std::vector<std::string> stops(const Json& j, std::size_t max) {
  const Json& v = j.at("stop");
  std::vector<std::string> out;
  if (v.is_string()) {
    out.push_back(v.get<std::string>());
  } else if (v.is_array()) {
    for (const auto& s : v) {
      if (!s.is_string()) invalid("`stop` must be a string or a list of strings, got " + v.dump());
      out.push_back(s.get<std::string>());
    }
  } else {
    invalid("`stop` must be a string or a list of strings, got " + v.dump());
  }
  if (out.size() > max)
    invalid("`stop` may hold at most " + std::to_string(max) + " sequences, got " + std::to_string(out.size()));
  for (const auto& s : out)
    if (s.empty()) invalid("`stop` sequences must not be empty");
  return out;
}

// OpenAI's shared sampling fields. temperature 0 = greedy; default 1 (sampling), as OpenAI.
void openai_sampling(const Json& b, GenerationParams& p) {
  double temperature = 1.0;
  if (present(b, "temperature")) temperature = number(b, "temperature", 0, 2, "in [0, 2]");
  if (present(b, "top_p")) p.top_p = number(b, "top_p", 0, 1, "in [0, 1]");
  if (p.top_p == 0) invalid("`top_p` must be > 0");
  p.do_sample = temperature > 0;
  p.temperature = temperature > 0 ? temperature : 1.0;
  if (present(b, "presence_penalty")) p.presence_penalty = number(b, "presence_penalty", -2, 2, "in [-2, 2]");
  if (present(b, "frequency_penalty")) p.frequency_penalty = number(b, "frequency_penalty", -2, 2, "in [-2, 2]");
  if (present(b, "seed")) p.seed = seed_of(b);
  if (present(b, "stop")) p.stop = stops(b, 4);
  if (present(b, "logit_bias") && !(b.at("logit_bias").is_object() && b.at("logit_bias").empty()))
    invalid("`logit_bias` is not supported");
}

void stream_options(const Json& b, bool stream, bool& include_usage) {
  if (!present(b, "stream_options")) return;
  const Json& o = b.at("stream_options");
  only_known(o, {"include_usage"}, "`stream_options`");
  if (!stream) invalid("`stream_options` is only allowed when `stream` is true");
  if (present(o, "include_usage")) include_usage = boolean(o, "include_usage");
}

}  // namespace

TgiGenerateRequest parse_tgi_generate_request(const Json& body) {
  only_known(body, {"inputs", "parameters", "stream"}, "the request");
  TgiGenerateRequest r;
  if (!body.contains("inputs")) invalid("missing field `inputs`");
  if (!body.at("inputs").is_string()) invalid("`inputs` must be a string, got " + body.at("inputs").dump());
  r.inputs = body.at("inputs").get<std::string>();
  if (r.inputs.empty()) throw ServerError(ErrorType::Empty, "`inputs` cannot be empty");
  if (!present(body, "parameters")) return r;
  const Json& p = body.at("parameters");
  only_known(p,
             {"best_of", "decoder_input_details", "details", "do_sample", "frequency_penalty", "grammar",
              "max_new_tokens", "repetition_penalty", "return_full_text", "seed", "stop", "temperature", "top_k",
              "top_n_tokens", "top_p", "truncate", "typical_p", "watermark", "adapter_id"},
             "`parameters`");
  GenerationParams& g = r.params;
  if (present(p, "best_of") && integer(p, "best_of", 1, 1 << 20) != 1) invalid("`best_of` > 1 is not supported");
  if (present(p, "decoder_input_details") && boolean(p, "decoder_input_details"))
    invalid("`decoder_input_details` is not supported");
  if (present(p, "watermark") && boolean(p, "watermark")) invalid("`watermark` is not supported");
  if (present(p, "grammar")) invalid("`grammar` is not supported");
  if (present(p, "adapter_id")) invalid("`adapter_id` is not supported");
  if (present(p, "details")) r.details = boolean(p, "details");
  if (present(p, "return_full_text")) r.return_full_text = boolean(p, "return_full_text");
  if (present(p, "do_sample")) g.do_sample = boolean(p, "do_sample");
  if (present(p, "max_new_tokens")) {
    g.max_new_tokens = integer(p, "max_new_tokens", 1, std::int64_t{1} << 40);
    r.max_new_tokens_given = true;
  }
  bool warpers = false;
  if (present(p, "temperature")) {
    g.temperature = number(p, "temperature", 0, 1e9, "strictly positive");
    if (g.temperature <= 0) invalid("`temperature` must be strictly positive");
    warpers = warpers || g.temperature != 1.0;
  }
  if (present(p, "repetition_penalty")) {
    g.repetition_penalty = number(p, "repetition_penalty", 0, 1e9, "strictly positive");
    if (g.repetition_penalty <= 0) invalid("`repetition_penalty` must be strictly positive");
  }
  if (present(p, "frequency_penalty")) g.frequency_penalty = number(p, "frequency_penalty", -2, 2, "in [-2, 2]");
  if (present(p, "top_k")) {
    g.top_k = integer(p, "top_k", 1, std::int64_t{1} << 40);
    warpers = true;
  }
  if (present(p, "top_p")) {
    g.top_p = number(p, "top_p", 0, 1, "> 0.0 and < 1.0");
    if (g.top_p <= 0 || g.top_p >= 1) invalid("`top_p` must be > 0.0 and < 1.0");
    warpers = true;
  }
  if (present(p, "typical_p")) {
    g.typical_p = number(p, "typical_p", 0, 1, "> 0.0 and < 1.0");
    if (g.typical_p <= 0 || g.typical_p >= 1) invalid("`typical_p` must be > 0.0 and < 1.0");
    warpers = true;
  }
  g.do_sample = g.do_sample || warpers;  // TGI samples whenever a warper is set
  if (present(p, "seed")) g.seed = seed_of(p);
  if (present(p, "stop")) g.stop = stops(p, 4);
  if (present(p, "top_n_tokens")) g.top_n_tokens = integer(p, "top_n_tokens", 0, 5);
  if (present(p, "truncate")) r.truncate = integer(p, "truncate", 1, std::int64_t{1} << 40);
  return r;
}

CompletionRequest parse_completion_request(const Json& b) {
  only_known(
      b,
      {"model", "prompt", "max_tokens", "temperature", "top_p", "n", "stream", "stream_options", "logprobs", "echo",
       "stop", "presence_penalty", "frequency_penalty", "best_of", "logit_bias", "seed", "suffix", "user"},
      "the request");
  CompletionRequest r;
  if (present(b, "model")) {
    if (!b.at("model").is_string()) invalid("`model` must be a string");
    r.model = b.at("model").get<std::string>();
  }
  if (!present(b, "prompt")) invalid("missing field `prompt`");
  const Json& p = b.at("prompt");
  auto token_list = [&](const Json& list) {
    std::vector<std::int64_t> ids;
    for (const auto& t : list) {
      if (!t.is_number_integer()) invalid("`prompt` must be a string, a list of strings or a list of token ids");
      ids.push_back(t.get<std::int64_t>());
    }
    if (ids.empty()) throw ServerError(ErrorType::Empty, "`prompt` cannot be empty");
    return ids;
  };
  if (p.is_string()) {
    r.prompts.push_back(p.get<std::string>());
  } else if (p.is_array() && !p.empty() && p[0].is_number_integer()) {
    r.token_prompts.push_back(token_list(p));
  } else if (p.is_array() && !p.empty()) {
    for (const auto& e : p) {
      if (e.is_string())
        r.prompts.push_back(e.get<std::string>());
      else if (e.is_array())
        r.token_prompts.push_back(token_list(e));
      else
        invalid("`prompt` must be a string, a list of strings or a list of token ids");
    }
    if (!r.prompts.empty() && !r.token_prompts.empty()) invalid("`prompt` mixes strings and token lists");
  } else {
    invalid("`prompt` must be a string, a list of strings or a list of token ids");
  }
  for (const auto& s : r.prompts)
    if (s.empty()) throw ServerError(ErrorType::Empty, "`prompt` cannot be empty");
  r.params.max_new_tokens = 16;  // OpenAI's default
  if (present(b, "max_tokens")) {
    r.params.max_new_tokens = integer(b, "max_tokens", 1, std::int64_t{1} << 40);
    r.max_tokens_given = true;
  }
  openai_sampling(b, r.params);
  if (present(b, "n")) r.n = integer(b, "n", 1, 128);
  if (present(b, "best_of") && integer(b, "best_of", 1, 128) != r.n)
    invalid("`best_of` other than `n` is not supported");
  if (present(b, "stream")) r.stream = boolean(b, "stream");
  stream_options(b, r.stream, r.include_usage);
  if (present(b, "logprobs")) {
    r.logprobs = integer(b, "logprobs", 0, 5);
    r.params.top_n_tokens = *r.logprobs;
  }
  if (present(b, "echo")) r.echo = boolean(b, "echo");
  if (present(b, "suffix")) invalid("`suffix` is not supported");
  if (present(b, "user") && !b.at("user").is_string()) invalid("`user` must be a string");
  return r;
}

ChatCompletionRequest parse_chat_completion_request(const std::string& text) {
  // Parsed in order (the chat template sees the messages' keys as sent).
  const Json b = parse_body(text);  // depth, syntax and UTF-8 checked here
  const chat_template::OrderedJson ob = chat_template::OrderedJson::parse(text);
  only_known(b,
             {"model",
              "messages",
              "max_tokens",
              "max_completion_tokens",
              "temperature",
              "top_p",
              "n",
              "stream",
              "stream_options",
              "stop",
              "seed",
              "presence_penalty",
              "frequency_penalty",
              "logprobs",
              "top_logprobs",
              "response_format",
              "logit_bias",
              "user",
              "tools",
              "tool_choice",
              "parallel_tool_calls",
              "metadata",
              "store",
              "service_tier"},
             "the request");
  ChatCompletionRequest r;
  if (present(b, "model")) {
    if (!b.at("model").is_string()) invalid("`model` must be a string");
    r.model = b.at("model").get<std::string>();
  }
  if (!present(b, "messages")) invalid("missing field `messages`");
  if (!b.at("messages").is_array()) invalid("`messages` must be a list of messages");
  if (b.at("messages").empty()) invalid("`messages` must hold at least one message");
  static const std::set<std::string> roles = {"system", "developer", "user", "assistant", "tool"};
  r.messages = chat_template::OrderedJson::array();
  for (const auto& m : ob.at("messages")) {
    if (!m.is_object()) invalid("each message must be an object with `role` and `content`");
    if (!m.contains("role") || !m.at("role").is_string()) invalid("each message needs a string `role`");
    const std::string role = m.at("role").get<std::string>();
    if (!roles.count(role)) invalid("unknown message role '" + role + "' (system, developer, user, assistant, tool)");
    for (const auto& [k, v] : m.items())
      if (k != "role" && k != "content" && k != "name" && k != "tool_call_id")
        invalid("message field `" + k + "` is not supported");
    chat_template::OrderedJson out = m;
    if (!m.contains("content") || m.at("content").is_null()) {
      if (role != "assistant") invalid("a " + role + " message needs `content`");
      out["content"] = "";
    } else if (m.at("content").is_array()) {
      std::string joined;
      for (const auto& part : m.at("content")) {
        if (!part.is_object() || !part.contains("type") || part.at("type") != "text" || !part.contains("text") ||
            !part.at("text").is_string())
          invalid("only text content parts ({\"type\": \"text\", \"text\": ...}) are supported");
        joined += part.at("text").get<std::string>();
      }
      out["content"] = joined;
    } else if (!m.at("content").is_string()) {
      invalid("message `content` must be a string or a list of text parts");
    }
    r.messages.push_back(std::move(out));
  }
  r.params.max_new_tokens = 0;  // unset: the room left by the prompt (see the route)
  if (present(b, "max_completion_tokens")) {
    r.params.max_new_tokens = integer(b, "max_completion_tokens", 1, std::int64_t{1} << 40);
    r.max_tokens_given = true;
  } else if (present(b, "max_tokens")) {
    r.params.max_new_tokens = integer(b, "max_tokens", 1, std::int64_t{1} << 40);
    r.max_tokens_given = true;
  }
  openai_sampling(b, r.params);
  if (present(b, "n")) r.n = integer(b, "n", 1, 128);
  if (present(b, "stream")) r.stream = boolean(b, "stream");
  stream_options(b, r.stream, r.include_usage);
  if (present(b, "logprobs")) r.logprobs = boolean(b, "logprobs");
  if (present(b, "top_logprobs")) {
    r.top_logprobs = integer(b, "top_logprobs", 0, 20);
    if (!r.logprobs) invalid("`top_logprobs` needs `logprobs` true");
  }
  if (r.logprobs) r.params.top_n_tokens = r.top_logprobs;
  if (present(b, "response_format")) {
    const Json& f = b.at("response_format");
    if (!f.is_object() || !f.contains("type") || f.at("type") != "text")
      invalid("`response_format` " + f.dump() + " is not supported (only {\"type\": \"text\"})");
  }
  if (present(b, "tools") || present(b, "tool_choice")) invalid("`tools` / `tool_choice` are not supported");
  if (present(b, "user") && !b.at("user").is_string()) invalid("`user` must be a string");
  return r;
}

}  // namespace ortformers::server
