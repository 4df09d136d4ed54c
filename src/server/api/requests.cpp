#include "server/api/requests.hpp"

#include <limits>

#include "server/errors.hpp"

namespace ortformers::server {

namespace {

[[noreturn]] void bad(const std::string& field, const std::string& what) {
  throw ServerError(ErrorType::Deserialize,
                    "Failed to deserialize the JSON body into the target type: " + field + ": " + what);
}

std::string type_name(const Json& j) {
  switch (j.type()) {
    case Json::value_t::null: return "null";
    case Json::value_t::boolean: return "boolean `" + j.dump() + "`";
    case Json::value_t::string: return "string";
    case Json::value_t::array: return "sequence";
    case Json::value_t::object: return "map";
    case Json::value_t::number_float: return "floating point `" + j.dump() + "`";
    default: return "integer `" + j.dump() + "`";
  }
}

const Json& require(const Json& body, const std::string& key) {
  if (!body.is_object()) bad("body", "invalid type: " + type_name(body) + ", expected a map");
  if (!body.contains(key)) bad("body", "missing field `" + key + "`");
  return body.at(key);
}

const Json* optional(const Json& body, const std::string& key) {
  if (!body.is_object()) bad("body", "invalid type: " + type_name(body) + ", expected a map");
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return nullptr;
  return &*it;
}

std::string get_string(const Json& j, const std::string& field) {
  if (!j.is_string()) bad(field, "invalid type: " + type_name(j) + ", expected a string");
  return j.get<std::string>();
}

bool get_bool(const Json& body, const std::string& key, bool fallback) {
  const Json* j = optional(body, key);
  if (!j) return fallback;
  if (!j->is_boolean()) bad(key, "invalid type: " + type_name(*j) + ", expected a boolean");
  return j->get<bool>();
}

std::int64_t get_uint(const Json& j, const std::string& field, std::int64_t max) {
  if (!j.is_number_integer()) bad(field, "invalid type: " + type_name(j) + ", expected an unsigned integer");
  if (j.is_number_unsigned()) {
    if (j.get<std::uint64_t>() > static_cast<std::uint64_t>(max))
      bad(field, "invalid value: integer `" + j.dump() + "`, out of range");
    return static_cast<std::int64_t>(j.get<std::uint64_t>());
  }
  const auto v = j.get<std::int64_t>();
  if (v < 0 || v > max) bad(field, "invalid value: integer `" + j.dump() + "`, expected an unsigned integer");
  return v;
}

std::optional<std::int64_t> get_dimensions(const Json& body) {
  const Json* j = optional(body, "dimensions");
  if (!j) return std::nullopt;
  return get_uint(*j, "dimensions", std::numeric_limits<std::int64_t>::max());
}

std::vector<std::int64_t> get_ids(const Json& j, const std::string& field) {
  std::vector<std::int64_t> ids;
  ids.reserve(j.size());
  for (const auto& v : j) ids.push_back(get_uint(v, field, std::numeric_limits<std::int32_t>::max()));
  return ids;
}

bool all_integers(const Json& a) {
  for (const auto& v : a)
    if (!v.is_number_integer()) return false;
  return true;
}

InputItem input_item(const Json& j, const std::string& field) {
  InputItem item;
  if (j.is_string()) {
    item.text = j.get<std::string>();
  } else if (j.is_array() && all_integers(j)) {
    item.ids = get_ids(j, field);
    item.is_ids = true;
  } else {
    bad(field, "data did not match any variant of untagged enum InputType");
  }
  return item;
}

// TEI's Input: a string, token ids, or a list of those.
std::vector<InputItem> parse_inputs(const Json& j, const std::string& field) {
  std::vector<InputItem> out;
  if (j.is_string() || (j.is_array() && !j.empty() && all_integers(j))) {
    out.push_back(input_item(j, field));
  } else if (j.is_array()) {
    for (const auto& v : j) out.push_back(input_item(v, field));
  } else {
    bad(field, "data did not match any variant of untagged enum Input");
  }
  if (out.empty()) throw ServerError(ErrorType::Empty, "`" + field + "` cannot be empty");
  return out;
}

TruncateOptions parse_truncation(const Json& body) {
  TruncateOptions t;
  if (const Json* j = optional(body, "truncate")) {
    if (!j->is_boolean()) bad("truncate", "invalid type: " + type_name(*j) + ", expected a boolean");
    t.truncate = j->get<bool>();
  }
  if (const Json* j = optional(body, "truncation_direction")) {
    const std::string d = get_string(*j, "truncation_direction");
    if (d == "Left" || d == "left")
      t.direction = tokenizers::TruncationDirection::Left;
    else if (d == "Right" || d == "right")
      t.direction = tokenizers::TruncationDirection::Right;
    else
      bad("truncation_direction", "unknown variant `" + d + "`, expected `Left` or `Right`");
  }
  return t;
}

std::optional<std::string> parse_prompt_name(const Json& body) {
  const Json* j = optional(body, "prompt_name");
  if (!j) return std::nullopt;
  return get_string(*j, "prompt_name");
}

std::vector<std::string> string_list(const Json& j, const std::string& field) {
  if (!j.is_array()) bad(field, "invalid type: " + type_name(j) + ", expected a sequence");
  std::vector<std::string> out;
  out.reserve(j.size());
  for (const auto& v : j) out.push_back(get_string(v, field));
  return out;
}

}  // namespace

Json parse_body(std::string_view body) {
  // Depth first (cheap, no allocation): a deeply nested body is refused before the parser builds anything.
  int depth = 0;
  bool in_string = false, escaped = false;
  for (char c : body) {
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"')
      in_string = true;
    else if (c == '[' || c == '{') {
      if (++depth > 128) bad("body", "nested deeper than 128 levels");
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  try {
    return Json::parse(body.begin(), body.end());
  } catch (const Json::exception& e) {
    throw ServerError(ErrorType::Deserialize, std::string("Failed to parse the request body as JSON: ") + e.what());
  }
}

EmbedRequest parse_embed_request(const Json& body) {
  EmbedRequest r;
  r.inputs = parse_inputs(require(body, "inputs"), "inputs");
  r.truncation = parse_truncation(body);
  r.prompt_name = parse_prompt_name(body);
  r.normalize = get_bool(body, "normalize", true);
  r.dimensions = get_dimensions(body);
  return r;
}

OpenAIRequest parse_openai_request(const Json& body) {
  OpenAIRequest r;
  r.inputs = parse_inputs(require(body, "input"), "input");
  if (const Json* j = optional(body, "encoding_format")) {
    const std::string f = get_string(*j, "encoding_format");
    if (f == "base64")
      r.base64 = true;
    else if (f != "float")
      bad("encoding_format", "unknown variant `" + f + "`, expected `float` or `base64`");
  }
  r.dimensions = get_dimensions(body);
  if (const Json* j = optional(body, "model")) r.model = get_string(*j, "model");
  if (const Json* j = optional(body, "user")) get_string(*j, "user");
  return r;
}

PredictRequest parse_predict_request(const Json& body) {
  PredictRequest r;
  const Json& in = require(body, "inputs");
  const auto one = [&](const Json& j) -> std::pair<std::string, std::optional<std::string>> {
    if (j.is_string()) return {j.get<std::string>(), std::nullopt};
    if (j.is_array() && j.size() == 1 && j[0].is_string()) return {j[0].get<std::string>(), std::nullopt};
    if (j.is_array() && j.size() == 2 && j[0].is_string() && j[1].is_string())
      return {j[0].get<std::string>(), j[1].get<std::string>()};
    bad("inputs", "data did not match any variant of untagged enum PredictInput");
  };
  if (in.is_string()) {
    r.inputs.push_back(one(in));
  } else if (in.is_array() && in.size() == 2 && in[0].is_string() && in[1].is_string()) {
    r.inputs.push_back(one(in));  // a pair of strings
  } else if (in.is_array()) {
    r.batch = true;
    for (const auto& j : in) {
      if (!j.is_array()) bad("inputs", "data did not match any variant of untagged enum PredictInput");
      r.inputs.push_back(one(j));
    }
  } else {
    bad("inputs", "data did not match any variant of untagged enum PredictInput");
  }
  if (r.inputs.empty()) throw ServerError(ErrorType::Empty, "`inputs` cannot be empty");
  r.raw_scores = get_bool(body, "raw_scores", false);
  r.truncation = parse_truncation(body);
  return r;
}

RerankRequest parse_rerank_request(const Json& body) {
  RerankRequest r;
  r.query = get_string(require(body, "query"), "query");
  r.texts = string_list(require(body, "texts"), "texts");
  if (r.texts.empty()) throw ServerError(ErrorType::Empty, "`texts` cannot be empty");
  r.raw_scores = get_bool(body, "raw_scores", false);
  r.return_text = get_bool(body, "return_text", false);
  r.truncation = parse_truncation(body);
  return r;
}

SimilarityRequest parse_similarity_request(const Json& body) {
  SimilarityRequest r;
  const Json& in = require(body, "inputs");
  r.source_sentence = get_string(require(in, "source_sentence"), "inputs.source_sentence");
  r.sentences = string_list(require(in, "sentences"), "inputs.sentences");
  if (r.sentences.empty()) throw ServerError(ErrorType::Empty, "`inputs.sentences` cannot be empty");
  if (const Json* p = optional(body, "parameters")) {
    r.prompt_name = parse_prompt_name(*p);
    r.truncation = parse_truncation(*p);
  }
  return r;
}

TokenizeRequest parse_tokenize_request(const Json& body) {
  TokenizeRequest r;
  const Json& in = require(body, "inputs");
  if (in.is_string())
    r.inputs.push_back(in.get<std::string>());
  else if (in.is_array())
    r.inputs = string_list(in, "inputs");
  else
    bad("inputs", "data did not match any variant of untagged enum TokenizeInput");
  if (r.inputs.empty()) throw ServerError(ErrorType::Empty, "`inputs` cannot be empty");
  r.add_special_tokens = get_bool(body, "add_special_tokens", true);
  r.prompt_name = parse_prompt_name(body);
  return r;
}

DecodeRequest parse_decode_request(const Json& body) {
  DecodeRequest r;
  const Json& ids = require(body, "ids");
  if (!ids.is_array()) bad("ids", "data did not match any variant of untagged enum InputIds");
  if (!ids.empty() && all_integers(ids)) {
    r.ids.push_back(get_ids(ids, "ids"));
  } else {
    for (const auto& row : ids) {
      if (!row.is_array() || !all_integers(row)) bad("ids", "data did not match any variant of untagged enum InputIds");
      r.ids.push_back(get_ids(row, "ids"));
    }
  }
  if (r.ids.empty()) throw ServerError(ErrorType::Empty, "`ids` cannot be empty");
  r.skip_special_tokens = get_bool(body, "skip_special_tokens", true);
  return r;
}

PipelineRequest parse_pipeline_request(const Json& body) {
  PipelineRequest r;
  r.inputs = require(body, "inputs");
  if (const Json* p = optional(body, "parameters")) {
    if (!p->is_object()) bad("parameters", "invalid type: " + type_name(*p) + ", expected a map");
    r.parameters = *p;
  }
  return r;
}

}  // namespace ortformers::server
