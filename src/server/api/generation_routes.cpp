// The generation routes: TGI's POST /generate and /generate_stream, OpenAI's POST /v1/completions,
// /v1/chat/completions and GET /v1/models. Each parses its body on a network thread, tokenizes on a worker
// (engine.post), submits one GenerationRequest per sequence to the scheduler, and turns its tokens into TGI's or
// OpenAI's JSON, whole or as server-sent events.
#include <chrono>
#include <mutex>

#include "ortformers/core/error.hpp"
#include "server/api/api.hpp"
#include "server/api/generation_requests.hpp"
#include "server/api/requests.hpp"
#include "server/engine/generation_scheduler.hpp"
#include "server/errors.hpp"

namespace ortformers::server {

namespace {

std::string sse(const Json& j) {
  return "data: " + j.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n\n";
}

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

const char* openai_finish(FinishReason r) {
  return r == FinishReason::Length ? "length" : "stop";
}

// The length of the longest suffix of `text` that is a proper prefix of a stop string: text that may still become
// a stop sequence, held back from a stream.
std::size_t stop_holdback(const std::string& text, const std::vector<std::string>& stop) {
  std::size_t hold = 0;
  for (const auto& s : stop) {
    for (std::size_t k = std::min(s.size() - 1, text.size()); k > hold; --k) {
      if (text.compare(text.size() - k, k, s, 0, k) == 0) {
        hold = k;
        break;
      }
    }
  }
  return hold;
}

// The text an OpenAI client sees: the stop sequence and what follows are cut.
std::string openai_text(const GenerationResult& r) {
  if (r.finish_reason == FinishReason::StopSequence) return r.generated_text.substr(0, r.stop_position);
  return r.generated_text;
}

struct Choice {
  std::string text;  // accumulated token texts
  std::size_t sent = 0;
  std::size_t tokens = 0;
  std::size_t prompt_tokens = 0;
  bool started = false;
};

// What several sequences of one request share: results in order and the count still running.
struct Gather {
  std::mutex mu;
  std::vector<GenerationResult> results;
  std::vector<Choice> choices;
  std::size_t remaining = 0;
  bool failed = false;
};

}  // namespace

bool Api::is_generative() const {
  return backend_ && backend_->generative_model() && scheduler_;
}

void Api::begin_generation(const CallPtr& call, bool audio) {
  if (!ready_ || !backend_ || !engine_) throw ServerError(ErrorType::Unhealthy, "the model is not loaded yet");
  const bool speech = backend_->speech_recognition() != nullptr;
  if (audio && (!is_generative() || !speech)) {
    throw ServerError(ErrorType::Backend, "`" + call->request.target +
                                              "` needs a Whisper model (automatic-speech-recognition); the model "
                                              "serves " +
                                              backend_->task());
  }
  if (!audio && !is_generative()) {
    throw ServerError(ErrorType::Backend, "`" + call->request.target +
                                              "` needs a generative model (text-generation, text2text-generation, "
                                              "summarization, translation); the model serves " +
                                              backend_->task());
  }
  if (!audio && speech) {
    throw ServerError(ErrorType::Backend, "`" + call->request.target +
                                              "` takes text; this Whisper model serves automatic-speech-recognition: "
                                              "use POST /v1/audio/transcriptions (or POST / for the pipeline)");
  }
  engine_->admit();
  call->admitted = true;
}

std::vector<std::int64_t> Api::prompt_ids(const std::string& text, bool add_special_tokens) const {
  tokenizers::TokenizeOptions o;
  o.add_special_tokens = add_special_tokens;
  try {
    return backend_->tokenizer().encode(text, o).ids;
  } catch (const std::exception& e) {
    throw ServerError(ErrorType::Tokenizer, std::string("tokenization failed: ") + e.what());
  }
}

// The model's positions bound prompt + new tokens: 413 for a prompt that leaves no room, 422 for too many new tokens
// (TGI's message); unset max_new_tokens become `fallback` capped by the room left.
void Api::fit_lengths(std::size_t prompt, GenerationParams& p, bool given, std::int64_t fallback) const {
  const auto* model = backend_->generative_model();
  const std::int64_t positions = model->max_positions();
  const auto n = static_cast<std::int64_t>(prompt);
  if (n == 0) throw ServerError(ErrorType::Empty, "the prompt has no tokens");
  if (model->is_encoder_decoder()) {
    // The prompt goes to the encoder; the decoder's positions hold the decoder start token + the new tokens.
    const std::int64_t encoder_limit = static_cast<std::int64_t>(backend_->max_input_length());
    if (encoder_limit > 0 && n > encoder_limit) {
      throw ServerError(ErrorType::Validation, "the prompt has " + std::to_string(n) +
                                                   " tokens; the encoder allows at most " +
                                                   std::to_string(encoder_limit));
    }
    if (!given) {
      p.max_new_tokens = fallback > 0 ? fallback : (positions > 0 ? positions - 1 : 256);
      if (positions > 0) p.max_new_tokens = std::min(p.max_new_tokens, positions - 1);
    } else if (positions > 0 && 1 + p.max_new_tokens > positions) {
      throw ServerError(ErrorType::Deserialize,
                        "`max_new_tokens` must be <= " + std::to_string(positions - 1) +
                            " (the decoder's positions). Given: " + std::to_string(p.max_new_tokens));
    }
    return;
  }
  if (positions > 0 && n >= positions) {
    throw ServerError(ErrorType::Validation, "the prompt has " + std::to_string(n) + " tokens; the model (" +
                                                 std::to_string(positions) + " positions) allows at most " +
                                                 std::to_string(positions - 1));
  }
  if (!given) {
    p.max_new_tokens = fallback > 0 ? fallback : (positions > 0 ? positions - n : 256);
    if (positions > 0) p.max_new_tokens = std::min(p.max_new_tokens, positions - n);
  } else if (positions > 0 && n + p.max_new_tokens > positions) {
    throw ServerError(ErrorType::Deserialize,
                      "`inputs` tokens + `max_new_tokens` must be <= " + std::to_string(positions) +
                          ". Given: " + std::to_string(n) + " `inputs` tokens and " + std::to_string(p.max_new_tokens) +
                          " `max_new_tokens`");
  }
}

std::string Api::served_model_name() const {
  return options_.served_model_name.empty() ? options_.model_id : options_.served_model_name;
}

void Api::begin_sse(const CallPtr& call) {
  http::Response head;
  head.content_type = "text/event-stream";
  head.headers.emplace_back("x-request-id", call->request_id);
  call->request.connection->begin_stream(std::move(head));
}

void Api::end_sse(const CallPtr& call, bool ok) {
  if (call->admitted) {
    call->admitted = false;
    engine_->release();
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - call->start).count();
  if (ok) {
    metrics_.increment("te_request_success", "method=\"" + call->route + "\"");
    metrics_.observe("te_request_duration", seconds, "method=\"" + call->route + "\"");
  }
  log(*call, 200);
  call->request.connection->end();
}

namespace {
Json tgi_token(const tokenizers::PreTrainedTokenizer& tok, const GeneratedToken& t) {
  std::string text = t.text;
  if (t.special) {
    const auto toks = tok.convert_ids_to_tokens(std::span<const std::int64_t>(&t.id, 1));
    text = toks.empty() ? "" : toks[0];
  }
  return Json{{"id", t.id}, {"text", text}, {"logprob", t.logprob}, {"special", t.special}};
}
Json tgi_top(const tokenizers::PreTrainedTokenizer& tok, const GeneratedToken& t) {
  Json top = Json::array();
  for (const auto& a : t.top) {
    GeneratedToken g;
    g.id = a.id;
    g.logprob = a.logprob;
    g.text = tok.decode(std::span<const std::int64_t>(&a.id, 1), false, false);
    top.push_back(tgi_token(tok, g));
  }
  return top;
}
}  // namespace

void Api::generate_tgi(const CallPtr& call, bool stream) {
  begin_generation(call);
  const Json body = parse_body(call->request.body);
  auto req = std::make_shared<TgiGenerateRequest>(parse_tgi_generate_request(body));
  if (!stream && body.contains("stream") && body.at("stream") == true)
    throw ServerError(ErrorType::Deserialize, "`stream` true: use /generate_stream");
  call->inputs = 1;
  engine_->post([this, call, req, stream] {
    try {
      auto g = std::make_shared<GenerationRequest>();
      g->prompt = prompt_ids(req->inputs, true);
      if (req->truncate && static_cast<std::int64_t>(g->prompt.size()) > *req->truncate)
        g->prompt.erase(g->prompt.begin(), g->prompt.end() - *req->truncate);
      g->params = req->params;
      g->params.logprobs = stream || req->details;  // stream events and details carry each token's logprob
      fit_lengths(g->prompt.size(), g->params, req->max_new_tokens_given, 100);
      auto conn = call->request.connection;
      g->cancelled = [conn] { return conn && conn->closed(); };
      const auto& tok = backend_->tokenizer();
      const auto input_length = g->prompt.size();
      if (stream) {
        auto index = std::make_shared<std::size_t>(0);
        g->on_token = [this, call, index, &tok](const GeneratedToken& t, bool last) {
          if (last) return;  // the last token comes with the final event
          Json e = {
              {"index", ++*index}, {"token", tgi_token(tok, t)}, {"generated_text", nullptr}, {"details", nullptr}};
          if (!t.top.empty()) e["top_tokens"] = tgi_top(tok, t);
          call->request.connection->write(sse(e));
        };
        g->on_done = [this, call, req, input_length, &tok](GenerationResult r) {
          if (r.finish_reason == FinishReason::Error || r.tokens.empty()) {
            call->request.connection->write(sse(Json{{"error", r.error.empty() ? "generation failed" : r.error},
                                                     {"error_type", r.overloaded ? "overloaded" : "generation"}}));
            return end_sse(call, false);
          }
          if (r.finish_reason == FinishReason::Cancelled) return end_sse(call, false);
          const GeneratedToken& t = r.tokens.back();
          Json e = {{"index", r.tokens.size()},
                    {"token", tgi_token(tok, t)},
                    {"generated_text", (req->return_full_text ? req->inputs : "") + r.generated_text},
                    {"details",
                     {{"finish_reason", to_string(r.finish_reason)},
                      {"generated_tokens", r.tokens.size()},
                      {"seed", r.seed ? Json(*r.seed) : Json(nullptr)},
                      {"input_length", input_length}}}};
          if (!t.top.empty()) e["top_tokens"] = tgi_top(tok, t);
          call->request.connection->write(sse(e));
          end_sse(call, true);
        };
        scheduler_->check(*g);  // 422 / 429 as a status, before the stream's header
        begin_sse(call);
        try {
          scheduler_->submit(g);
        } catch (const ServerError& e) {
          call->request.connection->write(sse(Json{{"error", e.what()}, {"error_type", to_string(e.type)}}));
          end_sse(call, false);
        }
        return;
      }
      g->on_done = [this, call, req, &tok](GenerationResult r) {
        if (r.finish_reason == FinishReason::Error) {
          return respond_error(call, std::make_exception_ptr(ServerError(
                                         r.overloaded ? ErrorType::Unhealthy : ErrorType::Backend, r.error)));
        }
        if (r.finish_reason == FinishReason::Cancelled)
          return respond_error(call, std::make_exception_ptr(ServerError(ErrorType::Backend, "cancelled")));
        Json out = {{"generated_text", (req->return_full_text ? req->inputs : "") + r.generated_text}};
        if (req->details) {
          Json tokens = Json::array(), top = Json::array();
          for (const auto& t : r.tokens) {
            tokens.push_back(tgi_token(tok, t));
            if (req->params.top_n_tokens > 0) top.push_back(tgi_top(tok, t));
          }
          out["details"] = {{"finish_reason", to_string(r.finish_reason)},
                            {"generated_tokens", r.tokens.size()},
                            {"seed", r.seed ? Json(*r.seed) : Json(nullptr)},
                            {"prefill", Json::array()},
                            {"tokens", tokens}};
          if (req->params.top_n_tokens > 0) out["details"]["top_tokens"] = top;
        }
        respond_json(call, out);
      };
      scheduler_->submit(g);
    } catch (...) {
      respond_error(call, std::current_exception());
    }
  });
}

void Api::generate(const CallPtr& call) {
  generate_tgi(call, false);
}
void Api::generate_stream(const CallPtr& call) {
  generate_tgi(call, true);
}

void Api::openai_models(const CallPtr& call) {
  Json data = Json::array();
  if (backend_ && backend_->generative_model())
    data.push_back({{"id", served_model_name()}, {"object", "model"}, {"created", 0}, {"owned_by", "ortformers"}});
  respond_json(call, Json{{"object", "list"}, {"data", data}});
}

namespace {

// One OpenAI request's sequences (prompts x n), streamed or gathered.
struct OpenAIRun {
  bool chat = false;
  bool stream = false;
  bool include_usage = false;
  bool echo = false;
  std::optional<std::int64_t> logprobs;  // completions: top alternatives; chat: top_logprobs when chat_logprobs
  bool chat_logprobs = false;
  std::string id, model;
  std::int64_t created = 0;
  std::vector<std::string> prompt_texts;  // per choice (echo)
  std::vector<std::string> stop;
  std::size_t n = 1;
  std::shared_ptr<Gather> gather;
  // usage.prompt_tokens counts each prompt once, not once per choice (n), as OpenAI.
  std::size_t prompt_tokens() const {
    std::size_t total = 0;
    for (std::size_t i = 0; i < gather->choices.size(); i += n) total += gather->choices[i].prompt_tokens;
    return total;
  }
};

void stream_openai_token(Api& api, const CallPtr& call, OpenAIRun* run, std::size_t index, const GeneratedToken& t,
                         bool last);
void finish_openai_choice(Api& api, const CallPtr& call, const std::shared_ptr<OpenAIRun>& run, std::size_t index,
                          GenerationResult r);

}  // namespace

void Api::openai_generate(const CallPtr& call, bool chat) {
  begin_generation(call);
  auto run = std::make_shared<OpenAIRun>();
  run->chat = chat;
  run->model = served_model_name();
  run->created = unix_now();
  run->id = (chat ? "chatcmpl-" : "cmpl-") + call->request_id;
  GenerationParams params;
  std::int64_t n = 1;
  bool given = false;
  std::shared_ptr<ChatCompletionRequest> chat_req;
  std::shared_ptr<CompletionRequest> comp_req;
  if (chat) {
    chat_req = std::make_shared<ChatCompletionRequest>(parse_chat_completion_request(call->request.body));
    params = chat_req->params;
    n = chat_req->n;
    given = chat_req->max_tokens_given;
    run->stream = chat_req->stream;
    run->include_usage = chat_req->include_usage;
    run->chat_logprobs = chat_req->logprobs;
    params.logprobs = chat_req->logprobs;
    run->stop = chat_req->params.stop;
  } else {
    comp_req = std::make_shared<CompletionRequest>(parse_completion_request(parse_body(call->request.body)));
    params = comp_req->params;
    n = comp_req->n;
    given = comp_req->max_tokens_given;
    run->stream = comp_req->stream;
    run->include_usage = comp_req->include_usage;
    run->echo = comp_req->echo;
    run->logprobs = comp_req->logprobs;
    params.logprobs = comp_req->logprobs.has_value();
    run->stop = comp_req->params.stop;
    const std::size_t prompts_n = comp_req->prompts.size() + comp_req->token_prompts.size();
    if (prompts_n * static_cast<std::size_t>(n) > options_.max_client_batch_size)
      throw ServerError(ErrorType::Deserialize,
                        "prompts x n = " + std::to_string(prompts_n * static_cast<std::size_t>(n)) +
                            " is more than --max-client-batch-size " + std::to_string(options_.max_client_batch_size));
  }
  call->inputs = 1;
  run->n = static_cast<std::size_t>(n);
  engine_->post([this, call, run, chat_req, comp_req, params, n, given] {
    std::vector<std::vector<std::int64_t>> prompts;
    std::vector<std::string> prompt_texts;
    try {
      const auto& tok = backend_->tokenizer();
      if (chat_req) {
        tokenizers::ChatTemplateOptions o;
        o.add_generation_prompt = true;
        if (!options_.chat_template.empty()) o.chat_template = chat_template_source_;
        std::string text;
        try {
          text = tok.apply_chat_template(chat_req->messages, o).text;
        } catch (const std::exception& e) {
          throw ServerError(ErrorType::Deserialize, std::string("the chat template failed: ") + e.what());
        }
        prompts.push_back(prompt_ids(text, false));  // the template writes the special tokens itself
        prompt_texts.push_back(text);
      } else {
        for (const auto& p : comp_req->prompts) {
          prompts.push_back(prompt_ids(p, true));
          prompt_texts.push_back(p);
        }
        const std::int64_t vocab = backend_->generative_model()->vocab_size();
        for (const auto& ids : comp_req->token_prompts) {
          for (auto id : ids)
            if (id < 0 || id >= vocab)
              throw ServerError(ErrorType::Deserialize, "token id " + std::to_string(id) +
                                                            " in `prompt` is outside the vocabulary [0, " +
                                                            std::to_string(vocab) + ")");
          prompts.push_back(ids);
          prompt_texts.push_back(tok.decode(ids, false, false));
        }
      }
      std::vector<std::shared_ptr<GenerationRequest>> reqs;
      auto gather = std::make_shared<Gather>();
      run->gather = gather;
      const std::size_t choices = prompts.size() * static_cast<std::size_t>(n);
      gather->results.resize(choices);
      gather->choices.resize(choices);
      gather->remaining = choices;
      for (std::size_t p = 0; p < prompts.size(); ++p) {
        for (std::int64_t j = 0; j < n; ++j) {
          auto g = std::make_shared<GenerationRequest>();
          g->prompt = prompts[p];
          g->params = params;
          if (g->params.seed && j > 0) *g->params.seed += static_cast<std::uint64_t>(j);
          fit_lengths(g->prompt.size(), g->params, given, chat_req ? 0 : 16);
          const std::size_t index = p * static_cast<std::size_t>(n) + static_cast<std::size_t>(j);
          gather->choices[index].prompt_tokens = g->prompt.size();
          run->prompt_texts.push_back(prompt_texts[p]);
          auto conn = call->request.connection;
          g->cancelled = [conn] { return conn && conn->closed(); };
          if (run->stream) {
            g->on_token = [this, call, run, index](const GeneratedToken& t, bool last) {
              stream_openai_token(*this, call, run.get(), index, t, last);
            };
          }
          g->on_done = [this, call, run, index](GenerationResult r) {
            finish_openai_choice(*this, call, run, index, std::move(r));
          };
          reqs.push_back(g);
        }
      }
      for (const auto& g : reqs) scheduler_->check(*g);  // 422 / 429 as a status, before any stream begins
      if (run->stream) begin_sse(call);
      for (auto& g : reqs) {
        try {
          scheduler_->submit(g);
        } catch (const ServerError& e) {
          GenerationResult r;
          r.finish_reason = FinishReason::Error;
          r.error = e.what();
          r.overloaded = e.type == ErrorType::Overloaded;
          if (!run->stream && reqs.size() == 1) throw;
          g->on_done(std::move(r));
        }
      }
    } catch (...) {
      respond_error(call, std::current_exception());
    }
  });
}

namespace {
Json chat_logprob_entry(const tokenizers::PreTrainedTokenizer& tok, std::int64_t id, float logprob) {
  const std::string s = tok.decode(std::span<const std::int64_t>(&id, 1), false, false);
  Json bytes = Json::array();
  for (unsigned char c : s) bytes.push_back(static_cast<int>(c));
  return Json{{"token", s}, {"logprob", logprob}, {"bytes", bytes}};
}
Json chat_logprobs(const tokenizers::PreTrainedTokenizer& tok, const GeneratedToken& t) {
  Json e = chat_logprob_entry(tok, t.id, t.logprob);
  Json top = Json::array();
  for (const auto& a : t.top) top.push_back(chat_logprob_entry(tok, a.id, a.logprob));
  e["top_logprobs"] = top;
  return e;
}
}  // namespace

namespace {
// One choice of a streamed chunk: chat's delta (the role on the choice's first chunk; its content also when empty if
// `content_if_empty`) with `logprobs`, or a completion's text (the prompt first with echo).
Json stream_choice(const OpenAIRun& run, const Choice& c, std::size_t index, std::string delta, Json finish_reason,
                   Json logprobs, bool content_if_empty) {
  Json choice = {{"index", index}, {"finish_reason", std::move(finish_reason)}};
  if (run.chat) {
    Json d = Json::object();
    if (!c.started) d["role"] = "assistant";
    if (content_if_empty || !delta.empty() || !c.started) d["content"] = delta;
    choice["delta"] = d;
    choice["logprobs"] = std::move(logprobs);
  } else {
    if (!c.started && run.echo) delta = run.prompt_texts[index] + delta;
    choice["text"] = delta;
    choice["logprobs"] = nullptr;
  }
  return choice;
}

// A chunk of one choice, as OpenAI streams them (usage null until the last chunk when include_usage).
void write_stream_chunk(const CallPtr& call, const OpenAIRun& run, Json choice) {
  Json chunk = {{"id", run.id},
                {"object", run.chat ? "chat.completion.chunk" : "text_completion"},
                {"created", run.created},
                {"model", run.model},
                {"choices", Json::array({std::move(choice)})}};
  if (run.chat) chunk["system_fingerprint"] = nullptr;
  if (run.include_usage) chunk["usage"] = nullptr;
  call->request.connection->write(sse(chunk));
}

void stream_openai_token(Api& api, const CallPtr& call, OpenAIRun* run, std::size_t index, const GeneratedToken& t,
                         bool last) {
  Choice& c = run->gather->choices[index];
  c.text += t.text;
  c.tokens += 1;
  if (last) return;  // the rest of the text goes with the final chunk
  const std::size_t hold = stop_holdback(c.text, run->stop);
  const std::size_t safe = c.text.size() - hold;
  std::string delta = safe > c.sent ? c.text.substr(c.sent, safe - c.sent) : "";
  if (safe > c.sent) c.sent = safe;
  if (delta.empty() && c.started && !run->chat_logprobs) return;
  const auto& tok = api.backend().tokenizer();
  Json logprobs = run->chat_logprobs ? Json{{"content", Json::array({chat_logprobs(tok, t)})}} : Json(nullptr);
  write_stream_chunk(call, *run, stream_choice(*run, c, index, std::move(delta), nullptr, std::move(logprobs), true));
  c.started = true;
}

void finish_openai_choice(Api& api, const CallPtr& call, const std::shared_ptr<OpenAIRun>& run, std::size_t index,
                          GenerationResult r) {
  auto& gather = *run->gather;
  const auto& tok = api.backend().tokenizer();
  bool all_done = false;
  {
    std::lock_guard lk(gather.mu);
    if (r.finish_reason == FinishReason::Error || r.finish_reason == FinishReason::Cancelled) {
      if (!gather.failed) {
        gather.failed = true;
        gather.results[index] = r;
      }
    } else {
      gather.results[index] = r;
    }
    all_done = --gather.remaining == 0;
  }
  if (run->stream) {
    Choice& c = gather.choices[index];
    if (r.finish_reason != FinishReason::Error && r.finish_reason != FinishReason::Cancelled) {
      const std::string final_text = openai_text(r);
      std::string delta = final_text.size() > c.sent ? final_text.substr(c.sent) : "";
      Json logprobs = run->chat_logprobs && !r.tokens.empty()
                          ? Json{{"content", Json::array({chat_logprobs(tok, r.tokens.back())})}}
                          : Json(nullptr);
      write_stream_chunk(
          call, *run,
          stream_choice(*run, c, index, std::move(delta), openai_finish(r.finish_reason), std::move(logprobs), false));
      c.started = true;
    }
    if (!all_done) return;
    if (gather.failed) {
      for (const auto& res : gather.results) {
        if (res.finish_reason == FinishReason::Error) {
          call->request.connection->write(sse(Json{{"error",
                                                    {{"message", res.error},
                                                     {"type", res.overloaded ? "overloaded_error" : "server_error"},
                                                     {"param", nullptr},
                                                     {"code", nullptr}}}}));
          break;
        }
      }
      return api.end_sse(call, false);
    }
    if (run->include_usage) {
      std::size_t completion = 0;
      for (const auto& res : gather.results) completion += res.tokens.size();
      const std::size_t prompt = run->prompt_tokens();
      Json chunk = {
          {"id", run->id},
          {"object", run->chat ? "chat.completion.chunk" : "text_completion"},
          {"created", run->created},
          {"model", run->model},
          {"choices", Json::array()},
          {"usage",
           {{"prompt_tokens", prompt}, {"completion_tokens", completion}, {"total_tokens", prompt + completion}}}};
      call->request.connection->write(sse(chunk));
    }
    call->request.connection->write("data: [DONE]\n\n");
    return api.end_sse(call, true);
  }
  if (!all_done) return;
  if (gather.failed) {
    for (const auto& res : gather.results) {
      if (res.finish_reason == FinishReason::Error)
        return api.respond_error(call, std::make_exception_ptr(ServerError(
                                           res.overloaded ? ErrorType::Overloaded : ErrorType::Backend, res.error)));
    }
    return api.respond_error(call, std::make_exception_ptr(ServerError(ErrorType::Backend, "cancelled")));
  }
  Json choices = Json::array();
  std::size_t completion = 0;
  for (std::size_t i = 0; i < gather.results.size(); ++i) {
    const GenerationResult& res = gather.results[i];
    completion += res.tokens.size();
    const std::string text = openai_text(res);
    Json choice = {{"index", i}, {"finish_reason", openai_finish(res.finish_reason)}};
    if (run->chat) {
      choice["message"] = {{"role", "assistant"}, {"content", text}};
      if (run->chat_logprobs) {
        Json content = Json::array();
        for (const auto& t : res.tokens) content.push_back(chat_logprobs(tok, t));
        choice["logprobs"] = {{"content", content}};
      } else {
        choice["logprobs"] = nullptr;
      }
    } else {
      const std::string prefix = run->echo ? run->prompt_texts[i] : "";
      choice["text"] = prefix + text;
      if (run->logprobs) {
        Json tokens = Json::array(), lps = Json::array(), tops = Json::array(), offsets = Json::array();
        std::size_t offset = prefix.size();
        for (const auto& t : res.tokens) {
          const std::string s = tok.decode(std::span<const std::int64_t>(&t.id, 1), false, false);
          tokens.push_back(s);
          lps.push_back(t.logprob);
          Json top = Json::object();
          for (const auto& a : t.top)
            top[tok.decode(std::span<const std::int64_t>(&a.id, 1), false, false)] = a.logprob;
          tops.push_back(top);
          offsets.push_back(offset);
          offset += t.text.size();
        }
        choice["logprobs"] = {
            {"tokens", tokens}, {"token_logprobs", lps}, {"top_logprobs", tops}, {"text_offset", offsets}};
      } else {
        choice["logprobs"] = nullptr;
      }
    }
    choices.push_back(choice);
  }
  const std::size_t prompt = run->prompt_tokens();
  Json out = {
      {"id", run->id},
      {"object", run->chat ? "chat.completion" : "text_completion"},
      {"created", run->created},
      {"model", run->model},
      {"choices", choices},
      {"usage", {{"prompt_tokens", prompt}, {"completion_tokens", completion}, {"total_tokens", prompt + completion}}}};
  if (run->chat) out["system_fingerprint"] = nullptr;
  api.respond_json(call, out);
}

}  // namespace

void Api::completions(const CallPtr& call) {
  openai_generate(call, false);
}
void Api::chat_completions(const CallPtr& call) {
  openai_generate(call, true);
}

}  // namespace ortformers::server
