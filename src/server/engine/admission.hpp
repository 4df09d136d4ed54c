#pragma once
// Admission under overload (issue 23 item 9): whether one more request may join the queue, and how large the next
// model batch may be, from the batcher's measured throughput and the queue's measured sojourn. Pure arithmetic over
// what the engine reports (no clock of its own), so it is tested with made-up batch timings.
//
//   throughput   model seconds per request and per padded token, as ratios of exponentially decayed sums over
//                the batches run (decay by model time, time constant kWindowSeconds): a batch that served 200
//                requests weighs 200 times one that served one, so the estimate is the batcher's throughput at the
//                batch sizes the current load produces, not a mean of per-batch figures.
//   wait         a request arriving now waits for the admitted requests that are not in the running batch
//                (queued or being tokenized) x seconds per request (the estimate), plus what is left of the
//                running batch (bounded below).
//   admission    admitted while that estimate is within --max-queue-time-ms (the budget) and the oldest waiting
//                sequence has waited less than the budget (the measured check: when the model slows down, e.g. the
//                machine gets busy, the queue stops draining in time before the throughput estimate follows, and
//                this refuses at once, as CoDel reacts to sojourn time); always while fewer than kAlwaysAdmitted
//                are in flight; never beyond --max-concurrent-requests.
//   batch bound  one batch holds at most the padded tokens the model runs in kBatchShare x the budget (and at least
//                kMinBatchTokens). A request's answer therefore comes within about the budget (work ahead) + what
//                is left of the running batch + its own batch: 1.5-2 s with the defaults. Under overload the queue
//                holds about one budget of work, several full batches, so every batch is full and grouped by length
//                (little padding), and no batch alternates with a tiny one.
#include <atomic>
#include <chrono>
#include <cstddef>

namespace ortformers::server {

class Admission {
 public:
  // Below this many requests in flight the wait budget never refuses (a budget shorter than one small batch would
  // otherwise hold concurrency, hence batch sizes and throughput, at their lowest).
  static constexpr std::size_t kAlwaysAdmitted = 8;
  // Decay time constant of the throughput sums, in seconds of model time.
  static constexpr double kWindowSeconds = 2.0;
  // Share of the wait budget one batch may take.
  static constexpr double kBatchShare = 0.5;
  // ... but a batch may always hold this many padded tokens (or max_batch_tokens if lower): on a slow or busy
  // machine the share alone made batches small, small batches slower per sequence, hence the share smaller still
  // (measured on the 2-core machine at load 9: batches fell from 35 to 12 sequences and the model time per request
  // from 9 to 16 ms within seconds).
  static constexpr std::size_t kMinBatchTokens = 512;

  // What the engine knows when a request arrives.
  struct State {
    std::size_t in_flight = 0;       // admitted and not yet answered (queued, tokenizing, in the running batch)
    std::size_t running = 0;         // of those, requests whose sequences are in the running batch
    double oldest_wait_seconds = 0;  // how long the oldest waiting sequence has waited (0: none waiting)
  };

  // max_queue_time <= 0: admission by count only, batches bounded by max_batch_tokens only.
  Admission(std::size_t max_concurrent_requests, std::chrono::milliseconds max_queue_time,
            std::size_t max_batch_tokens) noexcept;

  // Whether a request arriving in `state` is admitted. Any thread.
  bool admits(const State& state) const noexcept;
  // The estimated wait of a request arriving in `state`, in seconds: (in_flight - running) x seconds_per_request()
  // (0 until a batch was measured).
  double estimated_wait_seconds(const State& state) const noexcept;
  double seconds_per_request() const noexcept { return seconds_per_request_.load(std::memory_order_relaxed); }
  double seconds_per_token() const noexcept { return seconds_per_token_.load(std::memory_order_relaxed); }
  // Padded tokens (count x longest) the next batch may hold: >= min(kMinBatchTokens, max_batch_tokens),
  // <= max_batch_tokens.
  std::size_t batch_token_limit() const noexcept;

  // The batcher reports each model batch: its model time, its padded tokens (count x longest), and the requests it
  // served, counted fractionally (a request of k sequences counts 1/k per sequence). Batcher thread only.
  void record_batch(double seconds, std::size_t padded_tokens, double requests) noexcept;

 private:
  std::size_t max_concurrent_requests_;
  double budget_seconds_;
  std::size_t max_batch_tokens_;
  double seconds_sum_ = 0, requests_sum_ = 0, tokens_sum_ = 0;  // decayed sums (batcher thread)
  std::atomic<double> seconds_per_request_{0};
  std::atomic<double> seconds_per_token_{0};
};

}  // namespace ortformers::server
