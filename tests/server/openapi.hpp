#pragma once
// A validator for the subset of OpenAPI 3.0 schemas that TEI's openapi.json uses: $ref (#/components/schemas/...),
// type (object, array, string, integer, number, boolean), properties, required, additionalProperties, items,
// oneOf, anyOf, allOf, enum, nullable, minimum, minItems, maxItems. (Debian's libvalijson-dev validates JSON Schema
// drafts, not OpenAPI's `nullable`; this subset is small enough to check here directly.)
#include <string>

#include "ortformers/core/json.hpp"

namespace ortformers::testing {

class OpenApiValidator {
 public:
  explicit OpenApiValidator(Json spec) : spec_(std::move(spec)) {}

  // "" when `value` matches the schema of the response `status` of `method path`, else the first mismatch.
  std::string validate_response(const std::string& method, const std::string& path, int status,
                                const Json& value) const {
    const Json& op = spec_.at("paths").at(path).at(method);
    const std::string code = std::to_string(status);
    if (!op.at("responses").contains(code)) return "status " + code + " not documented for " + method + " " + path;
    const Json& content = op.at("responses").at(code).value("content", Json::object());
    if (!content.contains("application/json")) return "";
    return validate(content.at("application/json").at("schema"), value, "$");
  }
  std::string validate_schema(const std::string& name, const Json& value) const {
    return validate(spec_.at("components").at("schemas").at(name), value, "$");
  }

 private:
  const Json& resolve(const Json& schema) const {
    if (!schema.contains("$ref")) return schema;
    const std::string ref = schema.at("$ref").get<std::string>();
    const std::string prefix = "#/components/schemas/";
    return resolve(spec_.at("components").at("schemas").at(ref.substr(prefix.size())));
  }

  std::string validate(const Json& schema_in, const Json& v, const std::string& at) const {
    const Json& s = resolve(schema_in);
    if (v.is_null() && s.value("nullable", false)) return "";
    if (s.contains("allOf")) {
      for (const auto& sub : s.at("allOf"))
        if (auto e = validate(sub, v, at); !e.empty()) return e;
    }
    if (s.contains("oneOf")) {
      int matches = 0;
      std::string last;
      for (const auto& sub : s.at("oneOf")) {
        auto e = validate(sub, v, at);
        if (e.empty())
          ++matches;
        else
          last = e;
      }
      // TEI's untagged unions overlap (e.g. an empty list matches every list variant): require at least one match.
      if (matches == 0) return at + ": matches no oneOf variant (" + last + ")";
    }
    if (s.contains("anyOf")) {
      bool any = false;
      for (const auto& sub : s.at("anyOf")) any = any || validate(sub, v, at).empty();
      if (!any) return at + ": matches no anyOf variant";
    }
    if (s.contains("enum")) {
      bool found = false;
      for (const auto& e : s.at("enum")) found = found || e == v;
      if (!found) return at + ": " + v.dump() + " not in enum " + s.at("enum").dump();
    }
    if (!s.contains("type")) return "";
    const std::string type = s.at("type").get<std::string>();
    if (type == "object") {
      if (!v.is_object()) return at + ": expected an object, got " + v.dump().substr(0, 80);
      for (const auto& r : s.value("required", Json::array()))
        if (!v.contains(r.get<std::string>())) return at + ": missing required '" + r.get<std::string>() + "'";
      const Json props = s.value("properties", Json::object());
      for (const auto& [k, val] : v.items()) {
        if (props.contains(k)) {
          if (auto e = validate(props.at(k), val, at + "." + k); !e.empty()) return e;
        } else if (s.contains("additionalProperties") && s.at("additionalProperties").is_object()) {
          if (auto e = validate(s.at("additionalProperties"), val, at + "." + k); !e.empty()) return e;
        }
      }
      return "";
    }
    if (type == "array") {
      if (!v.is_array()) return at + ": expected an array, got " + v.dump().substr(0, 80);
      if (s.contains("minItems") && v.size() < s.at("minItems").get<std::size_t>()) return at + ": too few items";
      if (s.contains("maxItems") && v.size() > s.at("maxItems").get<std::size_t>()) return at + ": too many items";
      if (s.contains("items")) {
        for (std::size_t i = 0; i < v.size(); ++i)
          if (auto e = validate(s.at("items"), v[i], at + "[" + std::to_string(i) + "]"); !e.empty()) return e;
      }
      return "";
    }
    if (type == "string") return v.is_string() ? "" : at + ": expected a string, got " + v.dump().substr(0, 80);
    if (type == "boolean") return v.is_boolean() ? "" : at + ": expected a boolean";
    if (type == "integer" || type == "number") {
      if (type == "integer" ? !v.is_number_integer() : !v.is_number())
        return at + ": expected " + type + ", got " + v.dump();
      if (s.contains("minimum") && v.get<double>() < s.at("minimum").get<double>()) return at + ": below minimum";
      return "";
    }
    return at + ": unknown schema type " + type;
  }

  Json spec_;
};

}  // namespace ortformers::testing
