#pragma once
// The API layer: a table of routes, JSON <-> typed requests with TEI's validation and error bodies, one log line and
// the request metrics per call. Inference routes go through the engine; it never touches sockets.
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ortformers/server/options.hpp"
#include "server/backend/backend.hpp"
#include "server/engine/engine.hpp"
#include "server/engine/generation_request.hpp"
#include "server/http/http_server.hpp"
#include "server/metrics.hpp"

namespace ortformers::server {

class Api;
class GenerationScheduler;

// One request being answered. respond() may be called from any thread, once.
struct Call {
  http::Request request;
  http::Reply reply;
  std::string route;  // "embed", "health", ...
  std::chrono::steady_clock::time_point start;
  std::string request_id;
  bool admitted = false;
  std::size_t inputs = 0;
};
using CallPtr = std::shared_ptr<Call>;

struct Route {
  std::string method;
  std::string path;
  std::string name;  // metrics label
  std::function<void(Api&, const CallPtr&)> handler;
};

// A GET route answering a fixed body (the browser pages register theirs with this: one line each).
Route static_route(std::string path, std::string content_type, std::string_view body);

class Api {
 public:
  Api(Metrics& metrics, const ServerOptions& options);
  // The model and engine, once loaded (until then every model route answers 503 Unhealthy).
  void attach(Backend* backend, Engine* engine);
  // The generation scheduler, for a text-generation model (the generation routes answer 424 without it).
  void attach_generation(GenerationScheduler* scheduler);

  void handle(http::Request request, http::Reply reply);
  // The overload check made on a request's header, before its body is read or parsed: 429 Overloaded for a model
  // route when the engine would not admit it now (HttpServer::set_early_response), else nothing.
  std::optional<http::Response> reject_early(const http::Request& head);
  void set_ready(bool ready) { ready_ = ready; }
  bool ready() const { return ready_; }
  // The /info document.
  Json info() const;

  // Route handlers (public so the route table can name them).
  void health(const CallPtr& call);
  void get_info(const CallPtr& call);
  void metrics(const CallPtr& call);
  void embed(const CallPtr& call);
  void embed_all(const CallPtr& call);
  void embed_sparse(const CallPtr& call);
  void similarity(const CallPtr& call);
  void predict(const CallPtr& call);
  void rerank(const CallPtr& call);
  void tokenize(const CallPtr& call);
  void decode(const CallPtr& call);
  void openai_embeddings(const CallPtr& call);
  void pipeline(const CallPtr& call);
  // Generative models (generation_routes.cpp).
  void generate(const CallPtr& call);
  void generate_stream(const CallPtr& call);
  void completions(const CallPtr& call);
  void chat_completions(const CallPtr& call);
  void openai_models(const CallPtr& call);
  // Whisper models (transcription_routes.cpp).
  void audio_transcriptions(const CallPtr& call);

  void respond(const CallPtr& call, http::Response response);
  void respond_json(const CallPtr& call, const Json& body);
  // Maps an exception to TEI's body (or OpenAI's for /v1/embeddings) and responds.
  void respond_error(const CallPtr& call, std::exception_ptr error);

  // A server-sent-events answer: the header now, events through call->request.connection, end_sse once.
  void begin_sse(const CallPtr& call);
  void end_sse(const CallPtr& call, bool ok);

  Backend& backend() { return *backend_; }
  Engine& engine() { return *engine_; }
  const ServerOptions& options() const { return options_; }

 private:
  // Admission + the checks every model route shares (ready, model kind).
  bool begin_inference(const CallPtr& call, std::initializer_list<ModelKind> kinds);
  void log(const Call& call, int status) const;
  bool is_generative() const;
  // Ready, a generative model of the route's kind (audio: Whisper; else a text model), admission.
  void begin_generation(const CallPtr& call, bool audio = false);
  std::vector<std::int64_t> prompt_ids(const std::string& text, bool add_special_tokens) const;
  void fit_lengths(std::size_t prompt, GenerationParams& params, bool given, std::int64_t fallback) const;
  std::string served_model_name() const;
  void generate_tgi(const CallPtr& call, bool stream);
  void openai_generate(const CallPtr& call, bool chat);
  // Early 429s are logged as one line per second with their count, not one line each (an overload is thousands).
  void log_rejected(const http::Request& head);
  const Route* find_route(const std::string& method, const std::string& target, bool* path_known = nullptr) const;

  Backend* backend_ = nullptr;
  Engine* engine_ = nullptr;
  GenerationScheduler* scheduler_ = nullptr;
  std::string chat_template_source_;  // --chat-template, read
  Metrics& metrics_;
  ServerOptions options_;
  std::atomic<bool> ready_{false};
  std::vector<Route> routes_;
  std::atomic<std::uint64_t> rejected_unlogged_{0};
  std::atomic<std::int64_t> rejected_logged_at_ns_{0};
};

// Routes whose calls are API calls (model routes, /tokenize, /decode): the ones the request metrics count. Probes
// (/health), /info, /metrics and the pages are not counted, so a load balancer's probes never read as failures.
bool is_api_route(const std::string& name);

// The route table (src/server/api/routes.cpp).
std::vector<Route> default_routes();

}  // namespace ortformers::server
