#include "ortformers/core/json.hpp"

#include <charconv>
#include <cmath>
#include <fstream>
#include <sstream>

#include "ortformers/core/error.hpp"

namespace ortformers {

std::string read_text_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (!std::filesystem::exists(path)) throw NotFoundError("file not found: " + path.string());
    throw RuntimeError("cannot open file: " + path.string());
  }
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec || size == 0) {  // not a regular file (a pipe, a device, /proc): read until its end
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  // A regular file: one allocation and one read (a stringstream copies in chunks, 0.7 s for 90 MB).
  std::string text(static_cast<std::size_t>(size), '\0');
  in.read(text.data(), static_cast<std::streamsize>(size));
  text.resize(static_cast<std::size_t>(in.gcount()));  // a file that shrank meanwhile
  return text;
}

Json read_json_file(const std::filesystem::path& path) {
  const std::string text = read_text_file(path);
  try {
    return Json::parse(text);
  } catch (const Json::parse_error& e) {
    throw FileFormatError("malformed JSON in " + path.string() + ": " + e.what());
  }
}

void write_text_file(const std::filesystem::path& path, const std::string& text) {
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
  auto tmp = path;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw RuntimeError("cannot write file: " + tmp.string());
    out << text;
    if (!out) throw RuntimeError("failed writing file: " + tmp.string());
  }
  std::filesystem::rename(tmp, path);
}

std::string format_float(float value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "Infinity" : "-Infinity";
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof(buf), value);
  return std::string(buf, r.ptr);
}

std::string format_double(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "Infinity" : "-Infinity";
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof(buf), value);
  return std::string(buf, r.ptr);
}

}  // namespace ortformers
