#pragma once
// The engine: admission (at most max_concurrent_requests in flight, and only while the queue's estimated wait from
// the batcher's measured throughput is within max_queue_time, else Overloaded at once: see admission.hpp),
// tokenization on worker threads, the only queue, and the batcher that cuts model batches by a budget of padded
// tokens (batch size x longest sequence <= max_batch_tokens and <= what the model runs in half the wait budget,
// <= max_batch_requests), grouping similar lengths; the oldest waiting sequence is always in the next batch, so
// nothing waits behind newer requests. One backend thread runs the batches.
#include <atomic>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "ortformers/server/options.hpp"
#include "server/backend/backend.hpp"
#include "server/engine/admission.hpp"
#include "server/metrics.hpp"

namespace ortformers::server {

struct EngineResult {
  std::vector<std::vector<float>> outputs;  // one per sequence, in the order `prepare` returned them
  std::vector<std::size_t> lengths;         // tokens of each sequence
  std::exception_ptr error;                 // ServerError (or another exception) when it failed
};

class Engine {
 public:
  Engine(Backend& backend, const ServerOptions& options, Metrics& metrics);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Admission: takes a slot or throws ServerError(Overloaded). Every admitted request must call release() once.
  void admit();
  void release();
  std::size_t in_flight() const noexcept { return in_flight_.load(); }
  // What admit() would answer now, without taking a slot: the cheap check the network threads make before a
  // request's body is parsed. False when admitting one more request would exceed either bound.
  bool would_admit() const noexcept;
  // The wait a request admitted now can expect: requests in flight and not in the running batch x the batcher's
  // measured model time per request; 0 until a batch has run.
  double estimated_wait_seconds() const noexcept;
  // What admission decides on: in flight, in the running batch, the oldest waiting sequence's wait.
  Admission::State admission_state() const noexcept;
  const Admission& admission() const noexcept { return admission_; }

  // Runs `prepare` (tokenization and validation; may throw ServerError) on a worker thread, batches its sequences,
  // then calls `done` on a worker thread with every output in order.
  void submit(std::function<std::vector<Sequence>()> prepare, std::function<void(EngineResult)> done);
  // Runs `fn` on the backend thread between model batches (the task pipelines), then `done` on a worker thread.
  void submit_exclusive(std::function<Json()> fn, std::function<void(Json, std::exception_ptr)> done);
  // Runs `fn` on a worker thread (CPU work that must not block the network threads).
  void post(std::function<void()> fn);

  // Stops the batcher and the workers (pending work is failed with Unhealthy).
  void stop();

 private:
  struct Job;
  struct Pending {
    std::shared_ptr<Job> job;
    std::size_t index;
    std::size_t length;
    std::chrono::steady_clock::time_point enqueued;
  };
  struct Exclusive {
    std::function<Json()> fn;
    std::function<void(Json, std::exception_ptr)> done;
    std::chrono::steady_clock::time_point enqueued;
  };
  void enqueue(std::shared_ptr<Job> job);
  void batcher_loop();
  std::vector<Pending> next_batch();  // under mu_
  void run_batch(std::vector<Pending> batch);
  void finish(const std::shared_ptr<Job>& job);

  Backend& backend_;
  ServerOptions options_;
  Metrics& metrics_;
  std::size_t max_batch_requests_;
  std::atomic<std::size_t> in_flight_{0};
  Admission admission_;
  std::atomic<std::size_t> running_{0};              // requests in the running batch
  std::atomic<std::int64_t> oldest_enqueued_ns_{0};  // steady_clock time of the oldest queued sequence, 0 = none
  boost::asio::thread_pool workers_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Pending> queue_;
  std::deque<Exclusive> exclusive_;
  bool stopping_ = false;
  std::thread batcher_;
};

}  // namespace ortformers::server
