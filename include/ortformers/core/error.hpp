#pragma once
// One exception hierarchy for the whole library. Messages name the file, field and value at fault.
#include <stdexcept>
#include <string>

namespace ortformers {

enum class ErrorKind {
  InvalidArgument,  // a caller-supplied value is wrong (bad input name, shape, option value)
  FileFormat,       // a file exists but its content is malformed (JSON, safetensors, pickle, ONNX...)
  NotFound,         // a file, tensor, model or token that should exist does not
  Unsupported,      // valid input that ortformers does not handle (yet)
  Runtime,          // a failure while running (ONNX Runtime errors are wrapped into this kind)
};

const char* to_string(ErrorKind kind) noexcept;

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  ErrorKind kind() const noexcept { return kind_; }

 private:
  ErrorKind kind_;
};

struct InvalidArgument : Error {
  explicit InvalidArgument(const std::string& m) : Error(ErrorKind::InvalidArgument, m) {}
};
struct FileFormatError : Error {
  explicit FileFormatError(const std::string& m) : Error(ErrorKind::FileFormat, m) {}
};
struct NotFoundError : Error {
  explicit NotFoundError(const std::string& m) : Error(ErrorKind::NotFound, m) {}
};
struct UnsupportedError : Error {
  explicit UnsupportedError(const std::string& m) : Error(ErrorKind::Unsupported, m) {}
};
struct RuntimeError : Error {
  explicit RuntimeError(const std::string& m) : Error(ErrorKind::Runtime, m) {}
};

}  // namespace ortformers
