#include "page/browser.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <thread>

#include "support/fixtures.hpp"
#include "tokenizers/json_util.hpp"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace ortformers::testing {

std::optional<std::string> find_chromium() {
  if (const char* env = std::getenv("CHROMIUM"); env != nullptr && *env != '\0') {
    if (::access(env, X_OK) == 0) return std::string(env);
    return std::nullopt;
  }
  const char* path = std::getenv("PATH");
  std::string dirs = path != nullptr ? path : "/usr/bin:/bin";
  for (const char* name : {"chromium", "chromium-browser", "google-chrome"}) {
    std::size_t start = 0;
    while (start <= dirs.size()) {
      const std::size_t end = std::min(dirs.find(':', start), dirs.size());
      const fs::path candidate = fs::path(dirs.substr(start, end - start)) / name;
      if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
      start = end + 1;
    }
  }
  return std::nullopt;
}

Browser::Browser(const std::string& exe, const fs::path& log_file) {
  profile_ = make_temp_dir("ortformers-chromium");
  int to[2];
  int from[2];
  if (::pipe2(to, O_CLOEXEC) != 0 || ::pipe2(from, O_CLOEXEC) != 0)
    throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  std::vector<std::string> args = {exe,
                                   "--headless",
                                   "--no-sandbox",
                                   "--disable-gpu",
                                   "--disable-dev-shm-usage",
                                   "--remote-debugging-pipe",
                                   "--user-data-dir=" + profile_.string(),
                                   "--no-first-run",
                                   "--no-default-browser-check",
                                   "--disable-extensions",
                                   "--disable-background-networking",
                                   "--disable-component-update",
                                   "--disable-sync",
                                   "--disable-default-apps",
                                   "--disable-features=Translate,MediaRouter,OptimizationHints",
                                   "--mute-audio",
                                   "--hide-scrollbars",
                                   "--force-color-profile=srgb",
                                   "--lang=en-US",
                                   "about:blank"};
  std::vector<char*> argv;  // built before fork: the child only makes async-signal-safe calls
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid_ == 0) {
    ::setpgid(0, 0);  // its own process group, so the renderer and GPU children go with it
    const int in = ::fcntl(to[0], F_DUPFD, 10);
    const int out = ::fcntl(from[1], F_DUPFD, 10);
    const int log = ::open(log_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int null = ::open("/dev/null", O_RDONLY);
    if (in < 0 || out < 0 || log < 0 || null < 0) ::_exit(127);
    ::dup2(null, 0);
    ::dup2(log, 1);
    ::dup2(log, 2);
    ::dup2(in, 3);
    ::dup2(out, 4);
    ::execv(exe.c_str(), argv.data());
    ::_exit(127);
  }
  ::setpgid(pid_, pid_);
  ::close(to[0]);
  ::close(from[1]);
  to_browser_ = to[1];
  from_browser_ = from[0];
  ::signal(SIGPIPE, SIG_IGN);  // a dead browser becomes an error of the next write, not a signal
}

Browser::~Browser() {
  if (pid_ > 0) {
    try {
      call("Browser.close", Json::object(), "", std::chrono::seconds(5));
    } catch (const std::exception&) {
      // already gone, or not answering: killed below
    }
    int status = 0;
    const auto deadline = Clock::now() + std::chrono::seconds(5);
    while (::waitpid(pid_, &status, WNOHANG) == 0 && Clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    ::kill(-pid_, SIGKILL);  // our own process group only
    ::waitpid(pid_, &status, WNOHANG);
  }
  if (to_browser_ >= 0) ::close(to_browser_);
  if (from_browser_ >= 0) ::close(from_browser_);
  std::error_code ec;
  fs::remove_all(profile_, ec);
}

bool Browser::read_one(Clock::time_point deadline, Json& out) {
  for (;;) {
    const auto nul = buffer_.find('\0');
    if (nul != std::string::npos) {
      out = Json::parse(buffer_.substr(0, nul), nullptr, false);
      buffer_.erase(0, nul + 1);
      return true;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return false;
    pollfd p{from_browser_, POLLIN, 0};
    const int r = ::poll(&p, 1, static_cast<int>(left));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    char chunk[65536];
    const ssize_t n = ::read(from_browser_, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw std::runtime_error("chromium closed its DevTools pipe (crashed or exited; see its log)");
    buffer_.append(chunk, static_cast<std::size_t>(n));
  }
}

Json Browser::call(const std::string& method, const Json& params, const std::string& session,
                   std::chrono::milliseconds timeout) {
  const int id = next_id_++;
  Json msg = {{"id", id}, {"method", method}, {"params", params}};
  if (!session.empty()) msg["sessionId"] = session;
  std::string wire = msg.dump();
  wire.push_back('\0');
  for (std::size_t sent = 0; sent < wire.size();) {
    const ssize_t n = ::write(to_browser_, wire.data() + sent, wire.size() - sent);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw std::runtime_error("chromium DevTools pipe: write failed for " + method);
    sent += static_cast<std::size_t>(n);
  }
  const auto deadline = Clock::now() + timeout;
  Json in;
  while (read_one(deadline, in)) {
    if (in.contains("id") && in["id"] == id) {
      if (in.contains("error")) throw std::runtime_error(method + ": " + in["error"].value("message", in.dump()));
      return in.value("result", Json::object());
    }
    if (in.contains("method")) events_.push_back(in);
  }
  throw std::runtime_error(method + ": no answer from chromium within " + std::to_string(timeout.count()) + " ms");
}

void Browser::pump(std::chrono::milliseconds wait) {
  Json in;
  while (read_one(Clock::now() + wait, in))
    if (in.contains("method")) events_.push_back(in);
}

std::vector<Json> Browser::events(const std::string& session) const {
  std::vector<Json> out;
  for (const auto& e : events_)
    if (e.value("sessionId", "") == session) out.push_back(e);
  return out;
}

Tab::Tab(Browser& browser, int width, int height, bool mobile)
    : browser_(browser), width_(width), height_(height), mobile_(mobile) {
  target_ = browser_.call("Target.createTarget", {{"url", "about:blank"}})["targetId"].get<std::string>();
  session_ = browser_.call("Target.attachToTarget", {{"targetId", target_}, {"flatten", true}})["sessionId"]
                 .get<std::string>();
  for (const char* domain : {"Page.enable", "Runtime.enable", "Log.enable"}) browser_.call(domain, {}, session_);
  browser_.call("Emulation.setFocusEmulationEnabled", {{"enabled", true}}, session_);
  browser_.call("Emulation.setDeviceMetricsOverride",
                {{"width", width_}, {"height", height_}, {"deviceScaleFactor", 1}, {"mobile", mobile_}}, session_);
}

Tab::~Tab() {
  try {
    browser_.call("Target.closeTarget", {{"targetId", target_}}, "", std::chrono::seconds(5));
  } catch (const std::exception&) {
    // the browser is going away anyway
  }
}

void Tab::navigate(const std::string& url) {
  const Json r = browser_.call("Page.navigate", {{"url", url}}, session_);
  if (r.contains("errorText")) throw std::runtime_error("navigate " + url + ": " + r["errorText"].get<std::string>());
  if (!wait_for("document.readyState === 'complete'", std::chrono::seconds(20)))
    throw std::runtime_error("navigate " + url + ": the page did not finish loading");
}

Json Tab::eval(const std::string& expression, std::chrono::milliseconds timeout) {
  const Json r =
      browser_.call("Runtime.evaluate", {{"expression", expression}, {"awaitPromise", true}, {"returnByValue", true}},
                    session_, timeout);
  if (r.contains("exceptionDetails")) {
    const Json& d = r["exceptionDetails"];
    std::string what = d.value("text", "exception");
    if (d.contains("exception") && d["exception"].contains("description"))
      what = d["exception"]["description"].get<std::string>();
    throw std::runtime_error("in the page: " + what);
  }
  return r["result"].value("value", Json());
}

bool Tab::wait_for(const std::string& condition, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    try {
      if (eval("Boolean(" + condition + ")", std::chrono::seconds(10)).get<bool>()) return true;
    } catch (const std::runtime_error& e) {
      if (std::string(e.what()).rfind("in the page:", 0) != 0) throw;  // protocol trouble is not "not yet"
    }
    browser_.pump(std::chrono::milliseconds(50));
  }
  return false;
}

void Tab::type(const std::string& selector, const std::string& text) {
  const Json sel = selector;
  eval("(() => { const e = document.querySelector(" + sel.dump() + "); if (!e) throw new Error('no element ' + " +
       sel.dump() + "); e.focus(); if (e.select) e.select(); })()");
  browser_.call("Input.insertText", {{"text", text}}, session_);
}

void Tab::set_file(const std::string& selector, const fs::path& path) {
  const Json r = browser_.call("Runtime.evaluate",
                               {{"expression", "document.querySelector(" + Json(selector).dump() + ")"}}, session_);
  if (!r["result"].contains("objectId")) throw std::runtime_error("no element " + selector);
  browser_.call("DOM.setFileInputFiles", {{"files", {path.string()}}, {"objectId", r["result"]["objectId"]}}, session_);
}

void Tab::press(const std::string& key, int modifiers) {
  Json down = {{"type", "rawKeyDown"}, {"key", key}, {"code", key}, {"modifiers", modifiers}};
  if (key == "Enter") down["windowsVirtualKeyCode"] = 13;
  if (key == "Tab") down["windowsVirtualKeyCode"] = 9;
  browser_.call("Input.dispatchKeyEvent", down, session_);
  Json up = down;
  up["type"] = "keyUp";
  browser_.call("Input.dispatchKeyEvent", up, session_);
}

void Tab::screenshot(const fs::path& file, bool full_page) {
  const Json metrics = browser_.call("Page.getLayoutMetrics", {}, session_);
  const int full = static_cast<int>(std::ceil(metrics["cssContentSize"]["height"].get<double>()));
  const int height = full_page ? std::max(height_, std::min(full, 6000)) : height_;
  browser_.call("Emulation.setDeviceMetricsOverride",
                {{"width", width_}, {"height", height}, {"deviceScaleFactor", 1}, {"mobile", mobile_}}, session_);
  browser_.pump(std::chrono::milliseconds(100));
  const Json shot = browser_.call("Page.captureScreenshot", {{"format", "png"}}, session_);
  browser_.call("Emulation.setDeviceMetricsOverride",
                {{"width", width_}, {"height", height_}, {"deviceScaleFactor", 1}, {"mobile", mobile_}}, session_);
  if (file.has_parent_path()) fs::create_directories(file.parent_path());
  std::ofstream out(file, std::ios::binary);
  out << tokenizers::json_util::base64_decode(shot["data"].get<std::string>());
  if (!out) throw std::runtime_error("cannot write " + file.string());
}

std::vector<std::string> Tab::console_problems(bool ignore_network) {
  browser_.pump(std::chrono::milliseconds(100));
  std::vector<std::string> out;
  for (const Json& e : browser_.events(session_)) {
    const std::string method = e.value("method", "");
    const Json& p = e["params"];
    if (method == "Runtime.consoleAPICalled") {
      const std::string type = p.value("type", "");
      if (type != "warning" && type != "error" && type != "assert") continue;
      std::string text = "console." + type + ":";
      for (const Json& a : p["args"]) {
        text += ' ';  // appended piecewise: GCC 12 misreads " " + string here as an overlapping memcpy (-Wrestrict)
        text += a.contains("value") ? a["value"].dump() : a.value("description", "");
      }
      out.push_back(text);
    } else if (method == "Runtime.exceptionThrown") {
      const Json& d = p["exceptionDetails"];
      out.push_back("exception: " + (d.contains("exception") ? d["exception"].value("description", d.value("text", ""))
                                                             : d.value("text", "")));
    } else if (method == "Log.entryAdded") {
      const Json& entry = p["entry"];
      const std::string level = entry.value("level", "");
      if (level != "warning" && level != "error") continue;
      if (ignore_network && entry.value("source", "") == "network") continue;
      out.push_back("log." + level + " (" + entry.value("source", "") + "): " + entry.value("text", "") + " " +
                    entry.value("url", ""));
    }
  }
  return out;
}

}  // namespace ortformers::testing
