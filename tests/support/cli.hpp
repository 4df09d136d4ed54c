#pragma once
// Running the `ortformers` CLI from a test (ORTFORMERS_CLI_PATH, set by cmake/Tests.cmake).
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "ortformers/core/json.hpp"
#include "support/fixtures.hpp"

namespace ortformers::testing {

struct CliResult {
  int status = -1;          // exit code; -1 when the process did not exit normally
  std::string raw;          // stdout
  std::vector<Json> lines;  // stdout's non-empty lines as JSON (a discarded value where a line is not JSON)
};

// Runs `ortformers <args>` (shell syntax: quote with shell_quote); stdout is captured, stderr discarded.
inline CliResult run_cli(const std::string& args) {
  CliResult r;
  const std::string cmd = std::string(ORTFORMERS_CLI_PATH) + " " + args + " 2>/dev/null";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  std::array<char, 4096> buf{};
  std::size_t n = 0;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.raw.append(buf.data(), n);
  const int rc = ::pclose(p);
  r.status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  std::istringstream in(r.raw);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) r.lines.push_back(Json::parse(line, nullptr, false));
  return r;
}

// Writes `lines` as a JSON-lines file dir/name (the --inputs of the CLI) and returns its path.
inline std::filesystem::path write_lines(const std::filesystem::path& dir, const std::string& name,
                                         const std::vector<Json>& lines) {
  std::ofstream out(dir / name);
  for (const auto& l : lines) out << l.dump() << "\n";
  return dir / name;
}

// `s` as one single-quoted shell word.
inline std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  out += '\'';
  return out;
}

}  // namespace ortformers::testing

namespace ortformers::testing {
// Whether the CLI binary of this build exists (ORTFORMERS_CLI_PATH is a per-test-target definition).
inline bool cli_available(const char* path) {
  return path[0] != '\0' && std::filesystem::exists(path);
}
}  // namespace ortformers::testing

// Skips a test when the CLI was not built; under CI=true that is a failure.
#define ORTFORMERS_REQUIRE_CLI()                                                      \
  if (!::ortformers::testing::cli_available(ORTFORMERS_CLI_PATH)) {                   \
    if (::ortformers::testing::running_in_ci()) FAIL() << "ortformers CLI not built"; \
    GTEST_SKIP() << "ortformers CLI not built";                                       \
  }
