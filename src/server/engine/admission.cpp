#include "server/engine/admission.hpp"

#include <algorithm>
#include <cmath>

namespace ortformers::server {

Admission::Admission(std::size_t max_concurrent_requests, std::chrono::milliseconds max_queue_time,
                     std::size_t max_batch_tokens) noexcept
    : max_concurrent_requests_(max_concurrent_requests),
      budget_seconds_(std::max(0.0, std::chrono::duration<double>(max_queue_time).count())),
      max_batch_tokens_(std::max<std::size_t>(1, max_batch_tokens)) {}

double Admission::estimated_wait_seconds(const State& state) const noexcept {
  const std::size_t waiting = state.in_flight > state.running ? state.in_flight - state.running : 0;
  return static_cast<double>(waiting) * seconds_per_request();
}

bool Admission::admits(const State& state) const noexcept {
  if (state.in_flight >= max_concurrent_requests_) return false;
  if (budget_seconds_ <= 0 || state.in_flight < kAlwaysAdmitted) return true;
  return estimated_wait_seconds(state) <= budget_seconds_ && state.oldest_wait_seconds <= budget_seconds_;
}

std::size_t Admission::batch_token_limit() const noexcept {
  const double per_token = seconds_per_token();
  if (budget_seconds_ <= 0 || per_token <= 0) return max_batch_tokens_;
  const double tokens = std::floor(kBatchShare * budget_seconds_ / per_token);
  if (tokens >= static_cast<double>(max_batch_tokens_)) return max_batch_tokens_;
  return std::max(std::min(kMinBatchTokens, max_batch_tokens_), static_cast<std::size_t>(tokens));
}

void Admission::record_batch(double seconds, std::size_t padded_tokens, double requests) noexcept {
  if (!(seconds >= 0) || !std::isfinite(seconds)) return;
  // Older batches weigh exp(-model seconds since) : the sums describe about the last kWindowSeconds of model time.
  const double keep = std::exp(-seconds / kWindowSeconds);
  seconds_sum_ = keep * seconds_sum_ + seconds;
  tokens_sum_ = keep * tokens_sum_ + static_cast<double>(padded_tokens);
  requests_sum_ = keep * requests_sum_ + std::max(0.0, requests);
  if (tokens_sum_ > 0) seconds_per_token_.store(seconds_sum_ / tokens_sum_, std::memory_order_relaxed);
  if (requests_sum_ > 0) seconds_per_request_.store(seconds_sum_ / requests_sum_, std::memory_order_relaxed);
}

}  // namespace ortformers::server
