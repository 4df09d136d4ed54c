#include "hub/progress.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace ortformers::hub::detail {
namespace {

std::string human(double bytes) {
  const char* units[] = {"B", "kB", "MB", "GB", "TB"};
  int u = 0;
  while (bytes >= 1000.0 && u < 4) {
    bytes /= 1000.0;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f%s" : "%.1f%s", bytes, units[u]);
  return buf;
}

}  // namespace

bool progress_bars_allowed() {
  const char* v = std::getenv("HF_HUB_DISABLE_PROGRESS_BARS");
  if (v &&
      (std::strcmp(v, "1") == 0 || strcasecmp(v, "true") == 0 || strcasecmp(v, "yes") == 0 || strcasecmp(v, "on") == 0))
    return false;
  return ::isatty(STDERR_FILENO) == 1;
}

ProgressBar::ProgressBar(std::string label, std::uint64_t total, std::uint64_t initial, bool enabled)
    : label_(std::move(label)), total_(total), initial_(initial), now_(initial), enabled_(enabled) {
  start_ = last_draw_ = std::chrono::steady_clock::now();
  if (label_.size() > 40) label_ = "..." + label_.substr(label_.size() - 37);
  if (enabled_) draw(false);
}

ProgressBar::~ProgressBar() {
  finish();
}

void ProgressBar::update(std::uint64_t now) {
  now_ = now;
  if (!enabled_) return;
  auto t = std::chrono::steady_clock::now();
  if (t - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = t;
  draw(false);
}

void ProgressBar::finish() {
  if (finished_) return;
  finished_ = true;
  if (enabled_) draw(true);
}

void ProgressBar::draw(bool final) {
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  double rate = secs > 0 ? double(now_ - std::min(now_, initial_)) / secs : 0.0;
  constexpr int kWidth = 30;
  std::string bar;
  int pct = 0;
  if (total_ > 0) {
    double frac = std::min(1.0, double(now_) / double(total_));
    pct = int(frac * 100.0);
    int fill = int(frac * kWidth);
    bar = std::string(std::size_t(fill), '#') + std::string(std::size_t(kWidth - fill), ' ');
  } else {
    bar = std::string(kWidth, '?');
  }
  std::fprintf(stderr, "\r%s: %3d%%|%s| %s/%s [%s/s]%s", label_.c_str(), pct, bar.c_str(), human(double(now_)).c_str(),
               total_ ? human(double(total_)).c_str() : "?", human(rate).c_str(), final ? "\n" : "");
  std::fflush(stderr);
}

}  // namespace ortformers::hub::detail
