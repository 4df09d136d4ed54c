#include "ortformers/core/error.hpp"

namespace ortformers {

const char* to_string(ErrorKind kind) noexcept {
  switch (kind) {
    case ErrorKind::InvalidArgument: return "invalid argument";
    case ErrorKind::FileFormat: return "file format";
    case ErrorKind::NotFound: return "not found";
    case ErrorKind::Unsupported: return "unsupported";
    case ErrorKind::Runtime: return "runtime";
  }
  return "error";
}

}  // namespace ortformers
