#pragma once
// The one error type of the server (text-embeddings-inference's ErrorType): each layer throws it, the API layer maps
// it once to an HTTP status and TEI's body {"error", "error_type"}.
#include <stdexcept>
#include <string>

namespace ortformers::server {

// Deserialize: a body that is not JSON or has a field of the wrong type (422 with error_type Validation, as TEI's
// JSON extractor answers 422 Unprocessable Entity).
enum class ErrorType {
  Unhealthy,
  Backend,
  Overloaded,
  Validation,
  Tokenizer,
  Empty,
  Deserialize,
  Unauthorized,
  NotFound
};

const char* to_string(ErrorType type) noexcept;  // "Unhealthy", "Backend", ... (TEI's error_type strings)
int http_status(ErrorType type) noexcept;        // 503, 424, 429, 413, 422, 400, 422, 401, 404

struct ServerError : std::runtime_error {
  ServerError(ErrorType t, const std::string& message) : std::runtime_error(message), type(t) {}
  ErrorType type;
};

}  // namespace ortformers::server
