#include "server/api/api.hpp"

#include <atomic>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <iterator>
#include <random>
#include <sstream>

#include "ortformers/core/error.hpp"
#include "server/errors.hpp"

namespace ortformers::server {

namespace {

std::string generate_request_id() {
  static std::atomic<std::uint64_t> counter{0};
  static const std::uint64_t seed = std::random_device{}();
  std::ostringstream s;
  s << std::hex << std::setw(16) << std::setfill('0') << (seed ^ (counter.fetch_add(1) * 0x9E3779B97F4A7C15ull));
  return s.str();
}

std::string utc_now() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::ostringstream s;
  s << buf << '.' << std::setw(3) << std::setfill('0') << ms << 'Z';
  return s.str();
}

bool constant_time_equal(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  unsigned char d = 0;
  for (std::size_t i = 0; i < a.size(); ++i) d |= static_cast<unsigned char>(a[i] ^ b[i]);
  return d == 0;
}

}  // namespace

Route static_route(std::string path, std::string content_type, std::string_view body) {
  return Route{"GET", path, "static",
               [content_type = std::move(content_type), body = std::string(body)](Api& api, const CallPtr& call) {
                 http::Response r;
                 r.content_type = content_type;
                 r.body = body;
                 api.respond(call, std::move(r));
               }};
}

Api::Api(Metrics& metrics, const ServerOptions& options)
    : metrics_(metrics), options_(options), routes_(default_routes()) {}

void Api::attach(Backend* backend, Engine* engine) {
  backend_ = backend;
  engine_ = engine;
}

void Api::attach_generation(GenerationScheduler* scheduler) {
  scheduler_ = scheduler;
  if (!options_.chat_template.empty()) {
    // A file, else the template itself (vLLM's --chat-template).
    std::error_code ec;
    if (std::filesystem::is_regular_file(options_.chat_template, ec)) {
      std::ifstream in(options_.chat_template, std::ios::binary);
      chat_template_source_.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    } else {
      chat_template_source_ = options_.chat_template;
    }
  }
}

namespace {
bool is_openai_generation_route(const std::string& name) {
  return name == "completions" || name == "chat_completions" || name == "models" || name == "transcriptions";
}
}  // namespace

bool is_api_route(const std::string& name) {
  return name != "health" && name != "info" && name != "metrics" && name != "static" && name != "unknown";
}

namespace {
bool is_model_route(const std::string& name) {
  return is_api_route(name) && name != "tokenize" && name != "decode" && name != "models";
}
}  // namespace

const Route* Api::find_route(const std::string& method, const std::string& target, bool* path_known) const {
  const Route* route = nullptr;
  for (const auto& r : routes_) {
    if (r.path != target) continue;
    if (path_known) *path_known = true;
    if (r.method == method) route = &r;
  }
  return route;
}

std::optional<http::Response> Api::reject_early(const http::Request& head) {
  if (!ready_ || !engine_ || engine_->would_admit()) return std::nullopt;
  const Route* route = find_route(head.method, head.target);
  if (!route || !is_model_route(route->name)) return std::nullopt;
  if (!options_.api_key.empty() && !constant_time_equal(head.authorization, "Bearer " + options_.api_key))
    return std::nullopt;  // the handler answers 401 first
  metrics_.increment("te_request_count", "method=\"" + route->name + "\"");
  metrics_.increment("te_request_failure", "err=\"Overloaded\"");
  const std::string message = "Model is overloaded";
  http::Response r;
  r.status = http_status(ErrorType::Overloaded);
  r.body =
      route->name == "openai" ? Json{{"message", message}, {"code", r.status}, {"error_type", "Overloaded"}}.dump()
      : is_openai_generation_route(route->name)
          ? Json{{"error", {{"message", message}, {"type", "rate_limit_error"}, {"param", nullptr}, {"code", nullptr}}}}
                .dump()
          : Json{{"error", message}, {"error_type", "Overloaded"}}.dump();
  r.headers.emplace_back("x-request-id", head.request_id.empty() ? generate_request_id() : head.request_id);
  log_rejected(head);
  return r;
}

void Api::log_rejected(const http::Request& head) {
  rejected_unlogged_.fetch_add(1, std::memory_order_relaxed);
  const std::int64_t now =
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
  std::int64_t last = rejected_logged_at_ns_.load(std::memory_order_relaxed);
  if (now - last < 1'000'000'000 || !rejected_logged_at_ns_.compare_exchange_strong(last, now)) return;
  const std::uint64_t n = rejected_unlogged_.exchange(0);
  std::ostringstream line;
  if (options_.json_output) {
    line << Json{{"timestamp", utc_now()},
                 {"level", "WARN"},
                 {"method", head.method},
                 {"path", head.target},
                 {"status", 429},
                 {"rejected", n},
                 {"message", "requests rejected before their body was read (Overloaded)"}}
                .dump(-1, ' ', false, Json::error_handler_t::replace);
  } else {
    line << utc_now() << " WARN " << head.method << ' ' << head.target << " 429 Overloaded: " << n
         << " request(s) rejected before their body was read since the last such line";
  }
  line << '\n';
  std::cerr << line.str();
}

void Api::handle(http::Request request, http::Reply reply) {
  auto call = std::make_shared<Call>();
  call->start = std::chrono::steady_clock::now();
  call->request_id = request.request_id.empty() ? generate_request_id() : request.request_id;
  call->request = std::move(request);
  call->reply = std::move(reply);
  bool path_known = false;
  const Route* route = find_route(call->request.method, call->request.target, &path_known);
  if (!route) {
    call->route = "unknown";
    http::Response r;
    r.status = path_known ? 405 : 404;
    r.body.clear();
    r.content_type = "text/plain";
    return respond(call, std::move(r));
  }
  call->route = route->name;
  if (is_api_route(call->route)) metrics_.increment("te_request_count", "method=\"" + call->route + "\"");
  // Bearer key: every route but the probes and static pages.
  if (!options_.api_key.empty() && route->name != "health" && route->name != "static") {
    const std::string expected = "Bearer " + options_.api_key;
    if (!constant_time_equal(call->request.authorization, expected)) {
      return respond_error(call, std::make_exception_ptr(ServerError(ErrorType::Unauthorized, "Unauthorized")));
    }
  }
  try {
    route->handler(*this, call);
  } catch (...) {
    respond_error(call, std::current_exception());
  }
}

bool Api::begin_inference(const CallPtr& call, std::initializer_list<ModelKind> kinds) {
  if (!ready_ || !backend_ || !engine_) throw ServerError(ErrorType::Unhealthy, "the model is not loaded yet");
  bool ok = false;
  for (auto k : kinds) ok = ok || backend_->kind() == k;
  if (!ok) {
    throw ServerError(ErrorType::Backend, "`/" + call->route + "` is not available for a " +
                                              std::string(to_string(backend_->kind())) + " model (task " +
                                              backend_->task() + ")");
  }
  engine_->admit();
  call->admitted = true;
  return true;
}

void Api::respond(const CallPtr& call, http::Response response) {
  if (call->admitted) {
    call->admitted = false;
    engine_->release();
  }
  response.headers.emplace_back("x-request-id", call->request_id);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - call->start).count();
  if (is_api_route(call->route)) {
    if (response.status < 300) {
      metrics_.increment("te_request_success", "method=\"" + call->route + "\"");
      metrics_.observe("te_request_duration", seconds, "method=\"" + call->route + "\"");
    }
  }
  log(*call, response.status);
  call->reply(std::move(response));
}

void Api::respond_json(const CallPtr& call, const Json& body) {
  http::Response r;
  r.body = body.dump(-1, ' ', false, Json::error_handler_t::replace);
  respond(call, std::move(r));
}

void Api::respond_error(const CallPtr& call, std::exception_ptr error) {
  ErrorType type = ErrorType::Backend;
  std::string message;
  try {
    std::rethrow_exception(error);
  } catch (const ServerError& e) {
    type = e.type;
    message = e.what();
  } catch (const InvalidArgument& e) {
    type = ErrorType::Validation;
    message = e.what();
  } catch (const std::exception& e) {
    type = ErrorType::Backend;
    message = e.what();
  }
  if (is_api_route(call->route))
    metrics_.increment("te_request_failure", "err=\"" + std::string(to_string(type)) + "\"");
  const int status = http_status(type);
  if (is_openai_generation_route(call->route)) {
    // OpenAI's error body (what its SDKs read).
    http::Response r;
    r.status = status;
    const char* kind = status == 429   ? "rate_limit_error"
                       : status == 401 ? "authentication_error"
                       : status >= 500 ? "server_error"
                                       : "invalid_request_error";
    r.body = Json{{"error", {{"message", message}, {"type", kind}, {"param", nullptr}, {"code", nullptr}}}}.dump(
        -1, ' ', false, Json::error_handler_t::replace);
    return respond(call, std::move(r));
  }
  if (call->route == "openai") {
    http::Response r;
    r.status = status;
    r.body = Json{{"message", message}, {"code", status}, {"error_type", to_string(type)}}.dump(
        -1, ' ', false, Json::error_handler_t::replace);
    return respond(call, std::move(r));
  }
  respond(call, http::error_response(status, to_string(type), message));
}

void Api::log(const Call& call, int status) const {
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - call.start).count();
  // A probe answered 503 while the model loads is the expected answer, not an error.
  const bool loading_probe = call.route == "health" && status == 503 && !ready_;
  const char* level = status >= 500 && !loading_probe ? "ERROR" : (status >= 400 && !loading_probe ? "WARN" : "INFO");
  std::ostringstream line;
  if (options_.json_output) {
    line << Json{{"timestamp", utc_now()},        {"level", level},        {"method", call.request.method},
                 {"path", call.request.target},   {"status", status},      {"duration_ms", ms},
                 {"request_id", call.request_id}, {"inputs", call.inputs}, {"remote", call.request.remote}}
                .dump(-1, ' ', false, Json::error_handler_t::replace);
  } else {
    line << utc_now() << ' ' << level << ' ' << call.request.method << ' ' << call.request.target << ' ' << status
         << ' ' << std::fixed << std::setprecision(2) << ms << "ms request_id=" << call.request_id
         << " inputs=" << call.inputs;
  }
  line << '\n';
  std::cerr << line.str();
}

Json Api::info() const {
  Json j = {{"model_id", options_.model_id},
            {"model_sha", nullptr},
            {"served_model_name", options_.served_model_name.empty() ? options_.model_id : options_.served_model_name},
            {"max_concurrent_requests", options_.max_concurrent_requests},
            {"max_batch_tokens", options_.max_batch_tokens},
            {"max_client_batch_size", options_.max_client_batch_size},
            {"auto_truncate", options_.auto_truncate},
            {"tokenization_workers", options_.tokenization_workers},
            {"version", ORTFORMERS_VERSION_STRING},
            {"sha", nullptr},
            {"docker_label", nullptr}};
  j["max_batch_requests"] = options_.max_batch_requests ? Json(*options_.max_batch_requests) : Json(nullptr);
  if (!backend_) {
    j["model_dtype"] = "float32";
    j["max_input_length"] = 0;
    j["model_type"] = {{"embedding", {{"pooling", "unknown"}}}};
    return j;
  }
  j["model_dtype"] = backend_->model_dtype();
  j["max_input_length"] = backend_->max_input_length();
  j["pipeline_tag"] = backend_->task();
  const auto labels = [&] {
    Json id2label = Json::object(), label2id = Json::object();
    for (const auto& [id, label] : backend_->config().id2label()) {
      id2label[std::to_string(id)] = label;
      label2id[label] = id;
    }
    return Json{{"id2label", id2label}, {"label2id", label2id}};
  };
  if (backend_->generative_model()) {
    // TGI's /info fields of a generative model.
    const std::int64_t positions = backend_->generative_model()->max_positions();
    j["model_pipeline_tag"] = backend_->task();
    j["max_total_tokens"] = positions;
    j["max_input_tokens"] = positions > 0 ? positions - 1 : 0;
    if (backend_->generative_model()->is_encoder_decoder()) {
      // The prompt goes to the encoder: its limit, not the decoder's positions.
      j["max_input_tokens"] = backend_->max_input_length();
    }
    j["max_best_of"] = 1;
    j["max_stop_sequences"] = 4;
    j["max_batch_total_tokens"] = options_.max_batch_tokens;
    j["max_waiting_tokens"] = options_.max_batch_tokens;
    j["validation_workers"] = options_.tokenization_workers;
    j["is_encoder_decoder"] = backend_->generative_model()->is_encoder_decoder();
    // Whether /v1/chat/completions has a template to render (the tokenizer's, or --chat-template).
    const Json& t = backend_->tokenizer().chat_template();
    j["chat_template"] = !backend_->speech_recognition() &&  // Whisper: /v1/audio/transcriptions, never chat
                         (!options_.chat_template.empty() || (t.is_string() && !t.get<std::string>().empty()) ||
                          (t.is_array() && !t.empty()));
  }
  switch (backend_->kind()) {
    case ModelKind::Embedding:
    case ModelKind::Sparse: j["model_type"] = {{"embedding", {{"pooling", backend_->pooling_name()}}}}; break;
    case ModelKind::Reranker: j["model_type"] = {{"reranker", labels()}}; break;
    case ModelKind::Classifier:
    case ModelKind::Pipeline: j["model_type"] = {{"classifier", labels()}}; break;
  }
  return j;
}

void Api::get_info(const CallPtr& call) {
  respond_json(call, info());
}

void Api::metrics(const CallPtr& call) {
  http::Response r;
  r.content_type = "text/plain; version=0.0.4";
  r.body = metrics_.render();
  respond(call, std::move(r));
}

void Api::health(const CallPtr& call) {
  if (!ready_ || !backend_ || !engine_) {
    throw ServerError(ErrorType::Unhealthy, "unhealthy");
  }
  if (backend_->kind() == ModelKind::Pipeline || !backend_->has_tokenizer()) {
    http::Response r;
    r.body.clear();
    return respond(call, std::move(r));
  }
  // A probe inference through the engine (batched with the traffic): 200 only when it succeeds.
  auto probe = [this] {
    Sequence s;
    const auto cls = backend_->tokenizer().cls_token_id();
    s.ids = {cls.value_or(0)};
    s.type_ids = {0};
    s.output = backend_->kind() == ModelKind::Sparse
                   ? OutputKind::Sparse
                   : (backend_->kind() == ModelKind::Embedding ? OutputKind::Pooled : OutputKind::Logits);
    return std::vector<Sequence>{s};
  };
  engine_->submit(probe, [this, call](EngineResult r) {
    if (r.error) return respond_error(call, std::make_exception_ptr(ServerError(ErrorType::Unhealthy, "unhealthy")));
    http::Response ok;
    ok.body.clear();
    respond(call, std::move(ok));
  });
}

}  // namespace ortformers::server
