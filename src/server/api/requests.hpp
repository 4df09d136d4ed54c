#pragma once
// Request bodies of every route, parsed and type-checked as TEI's serde types are: a wrong type or a missing field
// is ServerError(Deserialize) naming the field; an empty batch is ServerError(Empty). Pure functions of the body
// (the fuzz target fuzz/server_request.cpp drives them).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ortformers/core/json.hpp"
#include "ortformers/tokenizers/encoding.hpp"

namespace ortformers::server {

// A JSON body: at most 128 levels deep; ServerError(Deserialize) with the parser's message otherwise.
Json parse_body(std::string_view body);

// TEI's InputType: a string or token ids.
struct InputItem {
  std::string text;
  std::vector<std::int64_t> ids;
  bool is_ids = false;
};

struct TruncateOptions {
  std::optional<bool> truncate;  // null/absent = the server's --auto-truncate
  tokenizers::TruncationDirection direction = tokenizers::TruncationDirection::Right;
};

struct EmbedRequest {
  std::vector<InputItem> inputs;
  TruncateOptions truncation;
  std::optional<std::string> prompt_name;
  bool normalize = true;
  std::optional<std::int64_t> dimensions;
};
EmbedRequest parse_embed_request(const Json& body);  // /embed, /embed_all, /embed_sparse (extra keys ignored)

struct OpenAIRequest {
  std::vector<InputItem> inputs;
  bool base64 = false;
  std::optional<std::int64_t> dimensions;
  std::optional<std::string> model;
};
OpenAIRequest parse_openai_request(const Json& body);

struct PredictRequest {
  std::vector<std::pair<std::string, std::optional<std::string>>> inputs;  // text, optional text pair
  bool batch = false;  // the body was a batch: the answer is a list of lists
  bool raw_scores = false;
  TruncateOptions truncation;
};
PredictRequest parse_predict_request(const Json& body);

struct RerankRequest {
  std::string query;
  std::vector<std::string> texts;
  bool raw_scores = false;
  bool return_text = false;
  TruncateOptions truncation;
};
RerankRequest parse_rerank_request(const Json& body);

struct SimilarityRequest {
  std::string source_sentence;
  std::vector<std::string> sentences;
  std::optional<std::string> prompt_name;
  TruncateOptions truncation;
};
SimilarityRequest parse_similarity_request(const Json& body);

struct TokenizeRequest {
  std::vector<std::string> inputs;
  bool add_special_tokens = true;
  std::optional<std::string> prompt_name;
};
TokenizeRequest parse_tokenize_request(const Json& body);

struct DecodeRequest {
  std::vector<std::vector<std::int64_t>> ids;
  bool skip_special_tokens = true;
};
DecodeRequest parse_decode_request(const Json& body);

// Hugging Face Inference API body {"inputs": ..., "parameters": {...}}.
struct PipelineRequest {
  Json inputs;
  Json parameters = Json::object();
};
PipelineRequest parse_pipeline_request(const Json& body);

}  // namespace ortformers::server
