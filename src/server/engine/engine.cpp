#include "server/engine/engine.hpp"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <cstdio>
#include <cstdlib>

#include "server/errors.hpp"

namespace ortformers::server {

namespace {
using Clock = std::chrono::steady_clock;
std::int64_t to_ns(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

std::size_t worker_count(const ServerOptions& o) {
  if (o.tokenization_workers > 0) return o.tokenization_workers;
  return std::max(1u, std::thread::hardware_concurrency());
}
}  // namespace

struct Engine::Job {
  std::vector<Sequence> sequences;
  std::function<void(EngineResult)> done;
  EngineResult result;
  std::size_t remaining = 0;  // guarded by the engine's batcher thread only
  Clock::time_point enqueued;
  bool first_batch_seen = false;
};

Engine::Engine(Backend& backend, const ServerOptions& options, Metrics& metrics)
    : backend_(backend),
      options_(options),
      metrics_(metrics),
      max_batch_requests_(options.max_batch_requests.value_or(options.max_batch_tokens)),
      admission_(options.max_concurrent_requests, options.max_queue_time, options.max_batch_tokens),
      workers_(worker_count(options)) {
  batcher_ = std::thread([this] { batcher_loop(); });
}

Engine::~Engine() {
  stop();
}

void Engine::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (batcher_.joinable()) batcher_.join();
  workers_.join();
}

Admission::State Engine::admission_state() const noexcept {
  Admission::State s;
  s.in_flight = in_flight_.load(std::memory_order_relaxed);
  s.running = running_.load(std::memory_order_relaxed);
  const std::int64_t oldest = oldest_enqueued_ns_.load(std::memory_order_relaxed);
  if (oldest != 0) s.oldest_wait_seconds = std::max(0.0, 1e-9 * static_cast<double>(to_ns(Clock::now()) - oldest));
  return s;
}

double Engine::estimated_wait_seconds() const noexcept {
  return admission_.estimated_wait_seconds(admission_state());
}

bool Engine::would_admit() const noexcept {
  return admission_.admits(admission_state());
}

void Engine::admit() {
  // The count bound, and the wait for the work ahead of this request (estimated from the batcher's throughput, and
  // the oldest waiting sequence's measured wait) against --max-queue-time-ms: a request that would wait too long is
  // refused now, while refusing is cheap.
  const std::size_t before = in_flight_.fetch_add(1);
  Admission::State state = admission_state();
  state.in_flight = before;
  if (!admission_.admits(state)) {
    in_flight_.fetch_sub(1);
    throw ServerError(ErrorType::Overloaded, "Model is overloaded");
  }
  metrics_.set_gauge("te_in_flight", static_cast<double>(in_flight_.load()));
}

void Engine::release() {
  in_flight_.fetch_sub(1);
  metrics_.set_gauge("te_in_flight", static_cast<double>(in_flight_.load()));
}

void Engine::post(std::function<void()> fn) {
  boost::asio::post(workers_, std::move(fn));
}

void Engine::submit(std::function<std::vector<Sequence>()> prepare, std::function<void(EngineResult)> done) {
  post([this, prepare = std::move(prepare), done = std::move(done)]() mutable {
    auto job = std::make_shared<Job>();
    job->done = std::move(done);
    const auto t0 = Clock::now();
    try {
      job->sequences = prepare();
    } catch (...) {
      EngineResult r;
      r.error = std::current_exception();
      job->done(std::move(r));
      return;
    }
    metrics_.observe("te_request_tokenization_duration", seconds_since(t0));
    job->result.outputs.resize(job->sequences.size());
    for (const auto& s : job->sequences) {
      job->result.lengths.push_back(s.ids.size());
      metrics_.observe("te_request_input_length", static_cast<double>(s.ids.size()));
    }
    if (job->sequences.empty()) {
      job->done(std::move(job->result));
      return;
    }
    enqueue(std::move(job));
  });
}

void Engine::submit_exclusive(std::function<Json()> fn, std::function<void(Json, std::exception_ptr)> done) {
  {
    std::lock_guard lock(mu_);
    exclusive_.push_back({std::move(fn), std::move(done), Clock::now()});
  }
  cv_.notify_one();
}

void Engine::enqueue(std::shared_ptr<Job> job) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) {
      job->result.error = std::make_exception_ptr(ServerError(ErrorType::Unhealthy, "the server is stopping"));
      post([job] { job->done(std::move(job->result)); });
      return;
    }
    job->remaining = job->sequences.size();
    job->enqueued = Clock::now();
    if (queue_.empty()) oldest_enqueued_ns_.store(to_ns(job->enqueued), std::memory_order_relaxed);
    for (std::size_t i = 0; i < job->sequences.size(); ++i)
      queue_.push_back({job, i, std::max<std::size_t>(1, job->sequences[i].ids.size()), job->enqueued});
    metrics_.set_gauge("te_queue_size", static_cast<double>(queue_.size()));
  }
  cv_.notify_one();
}

std::vector<Engine::Pending> Engine::next_batch() {
  // The oldest sequence always goes; then, among the oldest sequences holding about two batches of tokens (the
  // window), those closest to its length, while the padded size (count x longest) stays within the token budget
  // (max_batch_tokens, and what the model runs in a share of the wait budget: Admission::batch_token_limit) and the
  // count within max_batch_requests. The window keeps the order nearly first-come first-served: a sequence of an
  // unusual length is never overtaken by newer work beyond the window (with the whole queue as candidates it was, for
  // seconds under overload, while newer sequences closer to each anchor's length went first).
  const std::size_t max_tokens = admission_.batch_token_limit();
  std::size_t window = 0;
  for (std::size_t tokens = 0; window < queue_.size() && (window == 0 || tokens < 2 * max_tokens); ++window)
    tokens += queue_[window].length;
  std::vector<std::size_t> order(window);
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  const std::size_t anchor = queue_.front().length;
  std::stable_sort(order.begin() + 1, order.end(), [&](std::size_t a, std::size_t b) {
    const auto da = queue_[a].length > anchor ? queue_[a].length - anchor : anchor - queue_[a].length;
    const auto db = queue_[b].length > anchor ? queue_[b].length - anchor : anchor - queue_[b].length;
    return da < db;
  });
  std::vector<bool> take(queue_.size(), false);
  std::size_t count = 0, longest = 0;
  for (std::size_t i : order) {
    const std::size_t l = std::max(longest, queue_[i].length);
    if (count > 0 && ((count + 1) * l > max_tokens || count + 1 > max_batch_requests_)) continue;
    take[i] = true;
    ++count;
    longest = l;
    if (count >= max_batch_requests_ || count * longest >= max_tokens) break;
  }
  std::vector<Pending> batch;
  std::deque<Pending> rest;
  for (std::size_t i = 0; i < queue_.size(); ++i) {
    if (take[i])
      batch.push_back(std::move(queue_[i]));
    else
      rest.push_back(std::move(queue_[i]));
  }
  queue_.swap(rest);
  return batch;
}

void Engine::batcher_loop() {
  for (;;) {
    std::vector<Pending> batch;
    std::optional<Exclusive> exclusive;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty() || !exclusive_.empty(); });
      if (stopping_) break;
      if (!exclusive_.empty() && (queue_.empty() || exclusive_.front().enqueued <= queue_.front().enqueued)) {
        exclusive = std::move(exclusive_.front());
        exclusive_.pop_front();
      } else {
        if (options_.batch_wait.count() > 0 && queue_.size() < max_batch_requests_) {
          cv_.wait_for(lock, options_.batch_wait, [&] { return stopping_ || queue_.size() >= max_batch_requests_; });
          if (stopping_) break;
        }
        batch = next_batch();
        oldest_enqueued_ns_.store(queue_.empty() ? 0 : to_ns(queue_.front().enqueued), std::memory_order_relaxed);
        metrics_.set_gauge("te_queue_size", static_cast<double>(queue_.size()));
      }
    }
    if (exclusive) {
      Json out;
      std::exception_ptr err;
      try {
        out = exclusive->fn();
      } catch (...) {
        err = std::current_exception();
      }
      post([done = std::move(exclusive->done), out = std::move(out), err]() mutable { done(std::move(out), err); });
    } else {
      run_batch(std::move(batch));
    }
  }
  // Stopping: fail what is still waiting.
  std::unique_lock lock(mu_);
  const auto stopped = std::make_exception_ptr(ServerError(ErrorType::Unhealthy, "the server is stopping"));
  for (auto& p : queue_) {
    if (!p.job->result.error) p.job->result.error = stopped;
    if (--p.job->remaining == 0) finish(p.job);
  }
  queue_.clear();
  oldest_enqueued_ns_.store(0, std::memory_order_relaxed);
  for (auto& e : exclusive_) post([done = std::move(e.done), stopped] { done(Json(), stopped); });
  exclusive_.clear();
}

void Engine::run_batch(std::vector<Pending> batch) {
  std::vector<const Sequence*> seqs;
  std::size_t longest = 0;
  for (auto& p : batch) {
    seqs.push_back(&p.job->sequences[p.index]);
    longest = std::max(longest, p.length);
    if (!p.job->first_batch_seen) {
      p.job->first_batch_seen = true;
      metrics_.observe("te_request_queue_duration", seconds_since(p.enqueued));
    }
  }
  {
    std::vector<const Job*> jobs;
    for (const auto& p : batch) jobs.push_back(p.job.get());
    std::sort(jobs.begin(), jobs.end());
    running_.store(static_cast<std::size_t>(std::unique(jobs.begin(), jobs.end()) - jobs.begin()),
                   std::memory_order_relaxed);
  }
  metrics_.observe("te_batch_next_size", static_cast<double>(batch.size()));
  metrics_.observe("te_batch_next_tokens", static_cast<double>(batch.size() * longest));
  const auto t0 = Clock::now();
  std::vector<std::vector<float>> outputs;
  std::exception_ptr error;
  try {
    outputs = backend_.run(seqs);
  } catch (const ServerError&) {
    error = std::current_exception();
  } catch (const std::exception& e) {
    error = std::make_exception_ptr(ServerError(ErrorType::Backend, e.what()));
  }
  const double dt = seconds_since(t0);
  metrics_.observe("te_batch_inference_duration", dt);
  double requests = 0;  // requests served, a request of k sequences counting 1/k per sequence
  for (std::size_t i = 0; i < batch.size(); ++i) {
    auto& job = batch[i].job;
    requests += 1.0 / static_cast<double>(job->sequences.size());
    if (error) {
      if (!job->result.error) job->result.error = error;
    } else {
      job->result.outputs[batch[i].index] = std::move(outputs[i]);
    }
    if (--job->remaining == 0) {
      metrics_.observe("te_request_inference_duration", dt);
      finish(job);
    }
  }
  admission_.record_batch(dt, batch.size() * longest, requests);
  running_.store(0, std::memory_order_relaxed);
}

void Engine::finish(const std::shared_ptr<Job>& job) {
  post([job] { job->done(std::move(job->result)); });
}

}  // namespace ortformers::server
