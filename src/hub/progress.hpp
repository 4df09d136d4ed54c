#pragma once
// A one-line progress bar on stderr, drawn only when stderr is a terminal (and progress bars are not disabled
// with HF_HUB_DISABLE_PROGRESS_BARS=1).
#include <chrono>
#include <cstdint>
#include <string>

namespace ortformers::hub::detail {

class ProgressBar {
 public:
  ProgressBar(std::string label, std::uint64_t total, std::uint64_t initial, bool enabled);
  ~ProgressBar();
  void update(std::uint64_t now);  // bytes done so far (including `initial`)
  void finish();
  bool enabled() const { return enabled_; }

 private:
  void draw(bool final);
  std::string label_;
  std::uint64_t total_;
  std::uint64_t initial_;
  std::uint64_t now_;
  bool enabled_;
  bool finished_ = false;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

// Whether bars should be drawn for this process: stderr is a TTY and HF_HUB_DISABLE_PROGRESS_BARS is not set.
bool progress_bars_allowed();

}  // namespace ortformers::hub::detail
