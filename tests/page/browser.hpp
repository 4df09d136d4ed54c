#pragma once
// Headless Chromium driven through the DevTools protocol over --remote-debugging-pipe (JSON messages separated by
// NUL bytes on file descriptors 3 and 4 of the browser): no WebSocket, no npm package. Bounded: every call has a
// deadline, and the browser is killed when the object goes away.
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "ortformers/core/json.hpp"

namespace ortformers::testing {

// The Chromium executable: $CHROMIUM when set, else the first of chromium / chromium-browser / google-chrome on PATH.
std::optional<std::string> find_chromium();

class Browser {
 public:
  // Starts `exe` headless (--no-sandbox: CI runs as root); its stderr goes to `log_file`.
  Browser(const std::string& exe, const std::filesystem::path& log_file);
  ~Browser();
  Browser(const Browser&) = delete;
  Browser& operator=(const Browser&) = delete;

  // Sends one command and waits for its answer (events that arrive meanwhile are kept). Throws on a protocol error,
  // on timeout and when the browser is gone.
  Json call(const std::string& method, const Json& params = Json::object(), const std::string& session = "",
            std::chrono::milliseconds timeout = std::chrono::seconds(30));
  // Reads events for up to `wait` (returns early when the browser is quiet for that long).
  void pump(std::chrono::milliseconds wait);
  // Events received so far for `session` (params with "method" added), in order.
  std::vector<Json> events(const std::string& session) const;

 private:
  bool read_one(std::chrono::steady_clock::time_point deadline, Json& out);

  pid_t pid_ = -1;
  int to_browser_ = -1;
  int from_browser_ = -1;
  int next_id_ = 1;
  std::string buffer_;
  std::vector<Json> events_;
  std::filesystem::path profile_;
};

// One tab, attached in flat mode; Page, Runtime and Log domains enabled so console output is recorded.
class Tab {
 public:
  Tab(Browser& browser, int width, int height, bool mobile = false);
  ~Tab();
  Tab(const Tab&) = delete;
  Tab& operator=(const Tab&) = delete;

  void navigate(const std::string& url);
  // Evaluates `expression` (promises awaited) and returns its value; throws with the page's message on an exception.
  Json eval(const std::string& expression, std::chrono::milliseconds timeout = std::chrono::seconds(30));
  // Polls `condition` (a JS expression) until it is truthy; false on timeout.
  bool wait_for(const std::string& condition, std::chrono::milliseconds timeout);
  // Focuses the element matching `selector`, selects its content and types `text` as keyboard input.
  void type(const std::string& selector, const std::string& text);
  // Puts the file at `path` into the <input type=file> matching `selector` (its change event fires).
  void set_file(const std::string& selector, const std::filesystem::path& path);
  // Presses a key with modifiers (CDP bit mask: 2 = Ctrl); `key` as in KeyboardEvent.key ("Enter", "Tab").
  void press(const std::string& key, int modifiers = 0);
  // PNG of the page: the whole page (the viewport is stretched to the page height for the shot, then restored), or
  // only the viewport.
  void screenshot(const std::filesystem::path& file, bool full_page = true);
  // Console warnings/errors, uncaught exceptions and browser log entries of level warning/error, one line each.
  // `ignore_network`: drop the browser's "Failed to load resource" lines (a test that provokes an HTTP error).
  std::vector<std::string> console_problems(bool ignore_network = false);

 private:
  Browser& browser_;
  std::string target_;
  std::string session_;
  int width_;
  int height_;
  bool mobile_;
};

}  // namespace ortformers::testing
