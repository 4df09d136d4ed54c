#pragma once
// The bodies of the generation routes, parsed and validated as TGI (POST /generate, /generate_stream: its
// OpenAPI's GenerateRequest) and OpenAI (POST /v1/completions, /v1/chat/completions) define them. Errors are
// ServerError: Deserialize (422) for a wrong type, a value out of range, an unknown or unsupported field.
#include <optional>
#include <string>
#include <vector>

#include "ortformers/chat_template/chat_template.hpp"
#include "ortformers/core/json.hpp"
#include "server/engine/generation_request.hpp"

namespace ortformers::server {

struct TgiGenerateRequest {
  std::string inputs;
  GenerationParams params;
  bool max_new_tokens_given = false;
  bool details = false;
  bool return_full_text = false;
  std::optional<std::int64_t> truncate;
};
TgiGenerateRequest parse_tgi_generate_request(const Json& body);

struct CompletionRequest {
  std::vector<std::string> prompts;                      // text prompts
  std::vector<std::vector<std::int64_t>> token_prompts;  // or token id prompts
  GenerationParams params;
  bool max_tokens_given = false;
  std::int64_t n = 1;
  bool echo = false;
  std::optional<std::int64_t> logprobs;
  bool stream = false;
  bool include_usage = false;
  std::string model;
};
CompletionRequest parse_completion_request(const Json& body);

struct ChatCompletionRequest {
  chat_template::OrderedJson messages;
  GenerationParams params;
  bool max_tokens_given = false;
  std::int64_t n = 1;
  bool logprobs = false;
  std::int64_t top_logprobs = 0;
  bool stream = false;
  bool include_usage = false;
  std::string model;
};
ChatCompletionRequest parse_chat_completion_request(const std::string& body);

}  // namespace ortformers::server
