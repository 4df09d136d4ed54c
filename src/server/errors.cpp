#include "server/errors.hpp"

namespace ortformers::server {

const char* to_string(ErrorType type) noexcept {
  switch (type) {
    case ErrorType::Unhealthy: return "Unhealthy";
    case ErrorType::Backend: return "Backend";
    case ErrorType::Overloaded: return "Overloaded";
    case ErrorType::Validation: return "Validation";
    case ErrorType::Tokenizer: return "Tokenizer";
    case ErrorType::Empty: return "Empty";
    case ErrorType::Deserialize: return "Validation";
    case ErrorType::Unauthorized: return "Unauthorized";
    case ErrorType::NotFound: return "NotFound";
  }
  return "Backend";
}

int http_status(ErrorType type) noexcept {
  switch (type) {
    case ErrorType::Unhealthy: return 503;
    case ErrorType::Backend: return 424;
    case ErrorType::Overloaded: return 429;
    case ErrorType::Validation: return 413;  // TEI: PAYLOAD_TOO_LARGE ("Batch size error" in its OpenAPI file)
    case ErrorType::Tokenizer: return 422;
    case ErrorType::Empty: return 400;
    case ErrorType::Deserialize: return 422;
    case ErrorType::Unauthorized: return 401;
    case ErrorType::NotFound: return 404;
  }
  return 500;
}

}  // namespace ortformers::server
