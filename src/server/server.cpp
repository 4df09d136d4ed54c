#include "ortformers/server/server.hpp"

#include <csignal>
#include <iostream>
#include <thread>

#include "server/api/api.hpp"
#include "server/backend/backend.hpp"
#include "server/engine/engine.hpp"
#include "server/engine/generation_scheduler.hpp"
#include "server/errors.hpp"
#include "server/http/http_server.hpp"
#include "server/metrics.hpp"

namespace ortformers::server {

struct Server::Impl {
  explicit Impl(ServerOptions o) : options(std::move(o)), api(metrics, options) {}
  ServerOptions options;
  Metrics metrics;
  Api api;
  std::unique_ptr<Backend> backend;
  std::unique_ptr<Engine> engine;
  std::unique_ptr<GenerationScheduler> scheduler;  // generative models
  std::unique_ptr<http::HttpServer> http;
  bool stopped = false;
};

Server::Server(ServerOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

Server::~Server() {
  stop();
}

void Server::start() {
  auto& s = *impl_;
  if (s.options.max_client_batch_size == 0) throw InvalidArgument("serve: --max-client-batch-size must be positive");
  if (s.options.max_concurrent_requests == 0)
    throw InvalidArgument("serve: --max-concurrent-requests must be positive");
  if (s.options.max_batch_requests && *s.options.max_batch_requests == 0) {
    throw InvalidArgument("serve: --max-batch-requests must be positive");
  }
  if (s.options.max_queue_time.count() < 0) throw InvalidArgument("serve: --max-queue-time-ms must not be negative");
  s.http = std::make_unique<http::HttpServer>(
      s.options, [this](http::Request r, http::Reply reply) { impl_->api.handle(std::move(r), std::move(reply)); });
  // Overload is answered from the request's header, before its body is parsed (Api::reject_early).
  s.http->set_early_response([this](const http::Request& head) { return impl_->api.reject_early(head); });
  s.http->start();
  s.backend = std::make_unique<Backend>(s.options);
  if (s.backend->kind() != ModelKind::Pipeline && s.options.max_batch_tokens < s.backend->max_input_length()) {
    throw InvalidArgument("serve: --max-batch-tokens (" + std::to_string(s.options.max_batch_tokens) +
                          ") must be at least the model's max input length (" +
                          std::to_string(s.backend->max_input_length()) + ")");
  }
  s.engine = std::make_unique<Engine>(*s.backend, s.options, s.metrics);
  s.api.attach(s.backend.get(), s.engine.get());
  if (const auto* model = s.backend->generative_model()) {
    SchedulerOptions so;
    so.max_batch_total_tokens = s.options.max_batch_tokens;
    so.max_batch_requests = s.options.max_batch_requests.value_or(256);
    so.max_batch_prefill_tokens = s.options.max_batch_prefill_tokens;
    so.waiting_served_ratio = s.options.waiting_served_ratio;
    so.eos_token_id = s.backend->eos_token_ids();
    so.max_positions = model->max_positions();
    so.generation_config = s.backend->generation_config();
    s.scheduler = std::make_unique<GenerationScheduler>(*model, s.backend->tokenizer(), so, s.metrics);
    s.api.attach_generation(s.scheduler.get());
  }
  // Warm-up: one inference before reporting ready (ORT allocates and tunes on the first run).
  if (s.backend->kind() != ModelKind::Pipeline) {
    Sequence seq;
    seq.ids = {s.backend->tokenizer().cls_token_id().value_or(0)};
    seq.type_ids = {0};
    seq.output = s.backend->kind() == ModelKind::Sparse
                     ? OutputKind::Sparse
                     : (s.backend->kind() == ModelKind::Embedding ? OutputKind::Pooled : OutputKind::Logits);
    s.backend->run({&seq});
  }
  s.api.set_ready(true);
  std::ostringstream limits;
  const std::string url = "http://" + s.options.host + ":" + std::to_string(s.http->port());
  std::cerr << "ortformers serve: model " << s.options.model_id << " (" << s.backend->model_dir() << "), task "
            << s.backend->task() << ", model type " << to_string(s.backend->kind())
            << (s.backend->kind() == ModelKind::Embedding || s.backend->kind() == ModelKind::Sparse
                    ? " (pooling " + s.backend->pooling_name() + ")"
                    : "")
            << "\nortformers serve: limits: max-concurrent-requests " << s.options.max_concurrent_requests
            << ", max-queue-time-ms " << s.options.max_queue_time.count() << ", max-batch-tokens "
            << s.options.max_batch_tokens << ", max-batch-requests "
            << (s.options.max_batch_requests ? std::to_string(*s.options.max_batch_requests) : "none")
            << ", max-client-batch-size " << s.options.max_client_batch_size << ", max-input-length "
            << s.backend->max_input_length() << ", payload-limit " << s.options.payload_limit << ", auto-truncate "
            << (s.options.auto_truncate ? "true" : "false") << "\nortformers serve: ready on " << url << std::endl;
}

unsigned short Server::port() const {
  return impl_->http ? impl_->http->port() : 0;
}
bool Server::ready() const {
  return impl_->api.ready();
}
std::string Server::metrics_text() const {
  return impl_->metrics.render();
}

bool Server::stop() {
  auto& s = *impl_;
  if (s.stopped) return true;
  s.stopped = true;
  bool drained = true;
  if (s.http) {
    s.http->stop_accepting();
    const auto deadline = std::chrono::steady_clock::now() + s.options.drain_timeout;
    while (s.http->active_requests() > 0 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    drained = s.http->active_requests() == 0;
  }
  s.api.set_ready(false);
  if (s.scheduler) {
    // Streams still running after the drain end with a final error event; give their last writes a moment.
    s.scheduler->stop();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (s.http && s.http->active_requests() > 0 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  if (s.engine) s.engine->stop();
  if (s.http) s.http->stop();
  return drained;
}

bool Server::wait_for_signal() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  int sig = 0;
  sigwait(&set, &sig);
  std::cerr << "ortformers serve: " << (sig == SIGTERM ? "SIGTERM" : "SIGINT")
            << ": no new connections, draining in-flight requests" << std::endl;
  const bool drained = stop();
  std::cerr << "ortformers serve: stopped" << (drained ? "" : " (drain deadline passed)") << std::endl;
  return drained;
}

int serve(const ServerOptions& options) {
  // Block the signals in every thread (the threads started below inherit the mask); sigwait takes them.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  Server server(options);
  server.start();
  server.wait_for_signal();
  return 0;
}

}  // namespace ortformers::server
