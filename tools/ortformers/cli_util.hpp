#pragma once
// Shared CLI helpers: --option KEY=VALUE parsing, JSON-lines input, JSON output.
#include <string>
#include <vector>

#include "ortformers/core/json.hpp"

namespace ortformers::cli {

// KEY=VALUE -> {"KEY": VALUE}; VALUE parsed as JSON when it parses (numbers, true/false, null, lists, objects),
// as a string otherwise. InvalidArgument for an option without '='.
Json parse_options(const std::vector<std::string>& options);
// Inputs from a JSON-lines file (each line a JSON value; blank lines skipped) followed by the TEXT arguments.
// InvalidArgument naming the file and line for a malformed line.
std::vector<Json> read_inputs(const std::string& jsonl_file, const std::vector<std::string>& texts);
// One compact JSON line on stdout (floats in shortest round-trip form).
void print_json_line(const Json& value);

}  // namespace ortformers::cli
