#pragma once
// JSON file helpers with errors that name the file and field.
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

namespace ortformers {

using Json = nlohmann::json;

// Reads and parses a JSON file. NotFoundError if missing, FileFormatError (with the parser's position) if malformed.
Json read_json_file(const std::filesystem::path& path);
// Reads a whole file into a string. NotFoundError if missing.
std::string read_text_file(const std::filesystem::path& path);
// Writes text atomically (temp file + rename).
void write_text_file(const std::filesystem::path& path, const std::string& text);

// Serialises a float so that parsing it back gives the same float ("round-trip exact", shortest form).
std::string format_float(float value);
std::string format_double(double value);

}  // namespace ortformers
