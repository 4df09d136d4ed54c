// The route table and the model routes: each parses its body, tokenizes on a worker (engine.submit), and turns the
// engine's outputs into TEI's (or OpenAI's, or the pipeline's) JSON.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "ortformers/core/error.hpp"
#include "ortformers/pipelines/text_classification.hpp"
#include "pipelines/pipeline_inputs.hpp"
#include "server/api/api.hpp"
#include "server/api/requests.hpp"
#include "server/api/static_assets.hpp"
#include "server/errors.hpp"

namespace ortformers::server {

std::vector<Route> default_routes() {
  // One line per route.
  return {
      {"GET", "/health", "health", &Api::health},
      {"GET", "/info", "info", &Api::get_info},
      {"GET", "/metrics", "metrics", &Api::metrics},
      {"POST", "/embed", "embed", &Api::embed},
      {"POST", "/embed_all", "embed_all", &Api::embed_all},
      {"POST", "/embed_sparse", "embed_sparse", &Api::embed_sparse},
      {"POST", "/similarity", "similarity", &Api::similarity},
      {"POST", "/predict", "predict", &Api::predict},
      {"POST", "/rerank", "rerank", &Api::rerank},
      {"POST", "/tokenize", "tokenize", &Api::tokenize},
      {"POST", "/decode", "decode", &Api::decode},
      {"POST", "/v1/embeddings", "openai", &Api::openai_embeddings},
      {"POST", "/generate", "generate", &Api::generate},
      {"POST", "/generate_stream", "generate_stream", &Api::generate_stream},
      {"POST", "/v1/completions", "completions", &Api::completions},
      {"POST", "/v1/chat/completions", "chat_completions", &Api::chat_completions},
      {"GET", "/v1/models", "models", &Api::openai_models},
      {"POST", "/v1/audio/transcriptions", "transcriptions", &Api::audio_transcriptions},
      {"POST", "/", "pipeline", &Api::pipeline},
      {"POST", "/pipeline", "pipeline", &Api::pipeline},
      page_route("/"),  // the playground and API docs pages (static_assets.cpp, docs/playground.md)
      page_route("/playground"),
      page_route("/docs"),
      page_route("/openapi.json"),
  };
}

namespace {

using tokenizers::TruncationDirection;

// TEI's answer to an input longer than the model takes (413 Validation), the same on every route.
ServerError too_long(std::size_t limit, std::size_t given) {
  return ServerError(ErrorType::Validation, "`inputs` must have less than " + std::to_string(limit) +
                                                " tokens. Given: " + std::to_string(given));
}

// Tokenizes one input as TEI's validation does: prompt prepended, then either truncated to the model's limit or
// refused (Validation) when longer; token ids are taken as given (checked against the limit).
class Tokenization {
 public:
  Tokenization(const Backend& backend, const ServerOptions& options) : b_(backend), o_(options) {}

  std::string prompt(const std::optional<std::string>& name) const {
    std::string n = name.value_or(b_.default_prompt_name());
    if (n.empty()) return "";
    auto it = b_.prompts().find(n);
    if (it == b_.prompts().end()) {
      throw ServerError(ErrorType::Validation,
                        "Prompt name `" + n + "` is not in the sentence-transformers configuration prompts");
    }
    return it->second;
  }

  Sequence encode(const InputItem& item, const std::optional<std::string>& pair, const TruncateOptions& t,
                  OutputKind output, const std::string& prompt_text, bool st_preprocess) const {
    Sequence s;
    s.output = output;
    const bool truncate = t.truncate.value_or(o_.auto_truncate);
    const std::size_t limit = b_.max_input_length();
    if (item.is_ids) {
      s.ids = item.ids;
      s.type_ids.assign(s.ids.size(), 0);
    } else {
      std::string text = prompt_text + item.text;
      if (st_preprocess) {
        // sentence-transformers' Transformer.tokenize: str.strip(), lower-case when the folder says so.
        text = pipelines::python_strip(text);
        if (b_.st_config().do_lower_case)
          std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
      }
      tokenizers::Encoding enc;
      try {
        tokenizers::EncodeOptions eo;
        eo.num_threads = 1;
        if (truncate) {
          tokenizers::TruncationParams tp;
          tp.max_length = limit;
          tp.direction = t.direction;
          eo.truncation = tp;
        }
        std::vector<tokenizers::EncodeInput> in;
        if (pair)
          in.emplace_back(text, *pair);
        else
          in.emplace_back(text);
        enc = std::move(b_.tokenizer().backend().encode_batch(in, eo).at(0));
      } catch (const std::exception& e) {
        throw ServerError(ErrorType::Tokenizer, e.what());
      }
      s.ids = std::move(enc.ids);
      s.type_ids = std::move(enc.type_ids);
    }
    if (s.ids.size() > limit && (!truncate || item.is_ids)) throw too_long(limit, s.ids.size());
    if (s.ids.empty()) throw ServerError(ErrorType::Empty, "`inputs` cannot be empty");
    return s;
  }

 private:
  const Backend& b_;
  const ServerOptions& o_;
};

void check_batch_size(std::size_t n, const ServerOptions& o) {
  if (n > o.max_client_batch_size) {
    throw ServerError(ErrorType::Validation, "batch size " + std::to_string(n) + " > maximum allowed batch size " +
                                                 std::to_string(o.max_client_batch_size));
  }
}

// TEI's post-processing of a pooled embedding: Matryoshka truncation to `dimensions`, then L2 normalisation.
std::vector<float> finish_embedding(std::vector<float> v, std::optional<std::int64_t> dimensions, bool normalize) {
  if (dimensions) v.resize(static_cast<std::size_t>(*dimensions));
  if (normalize) {
    double n = 0;
    for (float x : v) n += static_cast<double>(x) * x;
    const double scale = 1.0 / std::max(std::sqrt(n), 1e-12);
    for (float& x : v) x = static_cast<float>(x * scale);
  }
  return v;
}

void check_dimensions(std::optional<std::int64_t> dimensions) {
  if (dimensions && *dimensions == 0) throw ServerError(ErrorType::Validation, "`dimensions` must be greater than 0");
}

std::optional<std::int64_t> checked_dimensions(std::optional<std::int64_t> dimensions, std::size_t dim) {
  if (dimensions && static_cast<std::size_t>(*dimensions) > dim) {
    throw ServerError(ErrorType::Validation, "`dimensions` (" + std::to_string(*dimensions) +
                                                 ") must be at most the model's embedding size " + std::to_string(dim));
  }
  return dimensions;
}

std::string base64_encode(const std::string& bytes) {
  static const char* tbl = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    const std::uint32_t n = (static_cast<unsigned char>(bytes[i]) << 16) |
                            (i + 1 < bytes.size() ? static_cast<unsigned char>(bytes[i + 1]) << 8 : 0) |
                            (i + 2 < bytes.size() ? static_cast<unsigned char>(bytes[i + 2]) : 0);
    out += tbl[(n >> 18) & 63];
    out += tbl[(n >> 12) & 63];
    out += i + 1 < bytes.size() ? tbl[(n >> 6) & 63] : '=';
    out += i + 2 < bytes.size() ? tbl[n & 63] : '=';
  }
  return out;
}

std::string base64_floats(const std::vector<float>& v) {
  std::string bytes(v.size() * 4, '\0');
  for (std::size_t i = 0; i < v.size(); ++i) {
    std::uint32_t u;
    std::memcpy(&u, &v[i], 4);
    for (int k = 0; k < 4; ++k) bytes[i * 4 + k] = static_cast<char>((u >> (8 * k)) & 0xff);  // little-endian
  }
  return base64_encode(bytes);
}

std::string base64_decode(const std::string& in) {
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int v;
    if (c >= 'A' && c <= 'Z')
      v = c - 'A';
    else if (c >= 'a' && c <= 'z')
      v = c - 'a' + 26;
    else if (c >= '0' && c <= '9')
      v = c - '0' + 52;
    else if (c == '+' || c == '-')
      v = 62;
    else if (c == '/' || c == '_')
      v = 63;
    else if (c == '=' || c == '\n' || c == '\r')
      continue;
    else
      throw ServerError(ErrorType::Deserialize, "`inputs` is not valid base64");
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  return out;
}

Json floats_json(const std::vector<float>& v) {
  return Json(v);
}

}  // namespace

// /embed, /embed_all, /embed_sparse, /similarity and /v1/embeddings share this: tokenize every input, run,
// post-process.
namespace {
template <class Finish>
void run_embedding(Api& api, const CallPtr& call, const std::vector<InputItem>& inputs, const TruncateOptions& t,
                   const std::optional<std::string>& prompt_name, OutputKind output, Finish finish) {
  call->inputs = inputs.size();
  check_batch_size(inputs.size(), api.options());
  auto prepare = [&api, inputs, t, prompt_name, output] {
    Tokenization tok(api.backend(), api.options());
    const std::string prompt = tok.prompt(prompt_name);
    std::vector<Sequence> seqs;
    seqs.reserve(inputs.size());
    for (const auto& in : inputs) seqs.push_back(tok.encode(in, std::nullopt, t, output, prompt, true));
    return seqs;
  };
  api.engine().submit(std::move(prepare), [&api, call, finish = std::move(finish)](EngineResult r) mutable {
    if (r.error) return api.respond_error(call, r.error);
    try {
      api.respond_json(call, finish(r));
    } catch (...) {
      api.respond_error(call, std::current_exception());
    }
  });
}
}  // namespace

void Api::embed(const CallPtr& call) {
  begin_inference(call, {ModelKind::Embedding});
  auto req = parse_embed_request(parse_body(call->request.body));
  check_dimensions(req.dimensions);
  run_embedding(*this, call, req.inputs, req.truncation, req.prompt_name, OutputKind::Pooled,
                [dims = req.dimensions, normalize = req.normalize](EngineResult& r) {
                  Json out = Json::array();
                  for (auto& v : r.outputs) {
                    const auto d = checked_dimensions(dims, v.size());
                    out.push_back(floats_json(finish_embedding(std::move(v), d, normalize)));
                  }
                  return out;
                });
}

void Api::embed_all(const CallPtr& call) {
  begin_inference(call, {ModelKind::Embedding});
  auto req = parse_embed_request(parse_body(call->request.body));
  const auto hidden = static_cast<std::size_t>(backend_->config().get<std::int64_t>("hidden_size", 0));
  run_embedding(*this, call, req.inputs, req.truncation, req.prompt_name, OutputKind::AllTokens,
                [hidden](EngineResult& r) {
                  Json out = Json::array();
                  for (std::size_t i = 0; i < r.outputs.size(); ++i) {
                    const auto& v = r.outputs[i];
                    const std::size_t n = r.lengths[i], h = n ? v.size() / n : hidden;
                    Json rows = Json::array();
                    for (std::size_t t = 0; t < n; ++t)
                      rows.push_back(std::vector<float>(v.begin() + t * h, v.begin() + (t + 1) * h));
                    out.push_back(std::move(rows));
                  }
                  return out;
                });
}

void Api::embed_sparse(const CallPtr& call) {
  begin_inference(call, {ModelKind::Sparse});
  auto req = parse_embed_request(parse_body(call->request.body));
  run_embedding(*this, call, req.inputs, req.truncation, req.prompt_name, OutputKind::Sparse, [](EngineResult& r) {
    Json out = Json::array();
    for (const auto& v : r.outputs) {
      Json values = Json::array();
      for (std::size_t k = 0; k < v.size(); ++k)
        if (v[k] > 0) values.push_back({{"index", k}, {"value", v[k]}});
      out.push_back(std::move(values));
    }
    return out;
  });
}

void Api::similarity(const CallPtr& call) {
  begin_inference(call, {ModelKind::Embedding});
  auto req = parse_similarity_request(parse_body(call->request.body));
  std::vector<InputItem> inputs;
  inputs.push_back({req.source_sentence, {}, false});
  for (auto& s : req.sentences) inputs.push_back({std::move(s), {}, false});
  run_embedding(*this, call, inputs, req.truncation, req.prompt_name, OutputKind::Pooled, [](EngineResult& r) {
    const auto src = finish_embedding(r.outputs[0], std::nullopt, true);
    Json out = Json::array();
    for (std::size_t i = 1; i < r.outputs.size(); ++i) {
      const auto v = finish_embedding(r.outputs[i], std::nullopt, true);
      double dot = 0;
      for (std::size_t k = 0; k < v.size(); ++k) dot += static_cast<double>(src[k]) * v[k];
      out.push_back(static_cast<float>(dot));
    }
    return out;
  });
}

void Api::openai_embeddings(const CallPtr& call) {
  begin_inference(call, {ModelKind::Embedding});
  auto req = parse_openai_request(parse_body(call->request.body));
  check_dimensions(req.dimensions);
  const std::string model = options_.served_model_name.empty() ? options_.model_id : options_.served_model_name;
  run_embedding(
      *this, call, req.inputs, TruncateOptions{}, std::nullopt, OutputKind::Pooled,
      [dims = req.dimensions, base64 = req.base64, model](EngineResult& r) {
        Json data = Json::array();
        std::size_t tokens = 0;
        for (std::size_t i = 0; i < r.outputs.size(); ++i) {
          tokens += r.lengths[i];
          const auto d = checked_dimensions(dims, r.outputs[i].size());
          auto v = finish_embedding(std::move(r.outputs[i]), d, true);
          data.push_back(
              {{"object", "embedding"}, {"embedding", base64 ? Json(base64_floats(v)) : floats_json(v)}, {"index", i}});
        }
        return Json{{"object", "list"},
                    {"data", std::move(data)},
                    {"model", model},
                    {"usage", {{"prompt_tokens", tokens}, {"total_tokens", tokens}}}};
      });
}

void Api::predict(const CallPtr& call) {
  begin_inference(call, {ModelKind::Classifier, ModelKind::Reranker});
  auto req = parse_predict_request(parse_body(call->request.body));
  call->inputs = req.inputs.size();
  check_batch_size(req.inputs.size(), options_);
  auto prepare = [this, inputs = req.inputs, t = req.truncation] {
    Tokenization tok(*backend_, options_);
    std::vector<Sequence> seqs;
    for (const auto& [text, pair] : inputs)
      seqs.push_back(tok.encode({text, {}, false}, pair, t, OutputKind::Logits, "", false));
    return seqs;
  };
  engine_->submit(std::move(prepare), [this, call, raw = req.raw_scores, batch = req.batch](EngineResult r) {
    if (r.error) return respond_error(call, r.error);
    const auto& cfg = backend_->config();
    const auto fn = raw ? pipelines::ClassificationFunction::None : pipelines::default_classification_function(cfg);
    Json out = Json::array();
    for (const auto& logits : r.outputs) {
      Json preds = Json::array();
      for (const auto& ls : pipelines::top_labels(pipelines::classification_scores(logits, cfg, fn), std::nullopt))
        preds.push_back({{"score", static_cast<float>(ls.score)}, {"label", ls.label}});
      out.push_back(std::move(preds));
    }
    respond_json(call, batch ? out : out.at(0));
  });
}

void Api::rerank(const CallPtr& call) {
  begin_inference(call, {ModelKind::Reranker});
  auto req = parse_rerank_request(parse_body(call->request.body));
  call->inputs = req.texts.size();
  check_batch_size(req.texts.size(), options_);
  auto prepare = [this, query = req.query, texts = req.texts, t = req.truncation] {
    Tokenization tok(*backend_, options_);
    std::vector<Sequence> seqs;
    for (const auto& text : texts)
      seqs.push_back(tok.encode({query, {}, false}, text, t, OutputKind::Logits, "", false));
    return seqs;
  };
  engine_->submit(std::move(prepare), [this, call, req = std::move(req)](EngineResult r) {
    if (r.error) return respond_error(call, r.error);
    std::vector<std::pair<std::size_t, float>> ranks;
    for (std::size_t i = 0; i < r.outputs.size(); ++i) {
      const float logit = r.outputs[i].at(0);
      ranks.emplace_back(
          i, req.raw_scores ? logit : static_cast<float>(1.0 / (1.0 + std::exp(-static_cast<double>(logit)))));
    }
    std::stable_sort(ranks.begin(), ranks.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
    Json out = Json::array();
    for (const auto& [i, score] : ranks) {
      Json rank = {{"index", i}, {"score", score}};
      if (req.return_text) rank["text"] = req.texts[i];
      out.push_back(std::move(rank));
    }
    respond_json(call, out);
  });
}

void Api::tokenize(const CallPtr& call) {
  if (!ready_ || !backend_) throw ServerError(ErrorType::Unhealthy, "the model is not loaded yet");
  if (!backend_->has_tokenizer()) throw ServerError(ErrorType::Backend, "this model has no tokenizer");
  auto req = parse_tokenize_request(parse_body(call->request.body));
  call->inputs = req.inputs.size();
  check_batch_size(req.inputs.size(), options_);
  engine_->post([this, call, req = std::move(req)] {
    try {
      Tokenization tok(*backend_, options_);
      const std::string prompt = tok.prompt(req.prompt_name);
      Json out = Json::array();
      for (const auto& text : req.inputs) {
        const std::string full = prompt + text;
        tokenizers::Encoding enc;
        try {
          tokenizers::EncodeOptions eo;  // no truncation, no padding (tokenizer.json may set both)
          eo.add_special_tokens = req.add_special_tokens;
          eo.num_threads = 1;
          enc = std::move(backend_->tokenizer().backend().encode_batch({tokenizers::EncodeInput(full)}, eo).at(0));
        } catch (const std::exception& e) {
          throw ServerError(ErrorType::Tokenizer, e.what());
        }
        Json tokens = Json::array();
        for (std::size_t i = 0; i < enc.ids.size(); ++i) {
          const bool special = i < enc.special_tokens_mask.size() && enc.special_tokens_mask[i] == 1;
          Json t = {{"id", enc.ids[i]}, {"text", enc.tokens[i]}, {"special", special}};
          if (special) {
            t["start"] = nullptr;
            t["stop"] = nullptr;
          } else {
            t["start"] = enc.byte_offsets[i].first;
            t["stop"] = enc.byte_offsets[i].second;
          }
          tokens.push_back(std::move(t));
        }
        out.push_back(std::move(tokens));
      }
      respond_json(call, out);
    } catch (...) {
      respond_error(call, std::current_exception());
    }
  });
}

void Api::decode(const CallPtr& call) {
  if (!ready_ || !backend_) throw ServerError(ErrorType::Unhealthy, "the model is not loaded yet");
  if (!backend_->has_tokenizer()) throw ServerError(ErrorType::Backend, "this model has no tokenizer");
  auto req = parse_decode_request(parse_body(call->request.body));
  call->inputs = req.ids.size();
  check_batch_size(req.ids.size(), options_);
  engine_->post([this, call, req = std::move(req)] {
    try {
      Json out = Json::array();
      for (const auto& ids : req.ids) {
        try {
          out.push_back(backend_->tokenizer().backend().decode(ids, req.skip_special_tokens));
        } catch (const std::exception& e) {
          throw ServerError(ErrorType::Tokenizer, e.what());
        }
      }
      respond_json(call, out);
    } catch (...) {
      respond_error(call, std::current_exception());
    }
  });
}

namespace {
bool is_media_task(const std::string& task) {
  return task.rfind("image-", 0) == 0 || task.rfind("audio-", 0) == 0 || task == "automatic-speech-recognition";
}

// Image/audio bytes to a temporary file the pipeline reads (removed after the call).
struct TempMedia {
  std::filesystem::path path;
  explicit TempMedia(const std::string& bytes) {
    static std::atomic<std::uint64_t> n{0};
    path = std::filesystem::temp_directory_path() /
           ("ortformers-serve-" + std::to_string(::getpid()) + "-" + std::to_string(n.fetch_add(1)));
    std::ofstream out(path, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) throw ServerError(ErrorType::Backend, "cannot write a temporary file for the request's media");
  }
  ~TempMedia() {
    std::error_code ec;
    std::filesystem::remove(path, ec);
  }
};

// Images the pipeline wrote next to the request's temporary input (segmentation masks "<input>.<label>.png",
// image-to-image "<input>.image-to-image.png") go back inline as base64 PNG, as the Inference API answers them, and
// are removed: no server path in the answer, no file left behind.
void inline_written_images(Json& out, const std::filesystem::path& input) {
  const std::string prefix = input.string() + ".";
  const auto take = [&](Json& v) {
    if (!v.is_string() || v.get<std::string>().rfind(prefix, 0) != 0) return;
    const std::string path = v.get<std::string>();
    std::ifstream in(path, std::ios::binary);
    if (!in) throw ServerError(ErrorType::Backend, "cannot read the image the pipeline wrote: " + path);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::error_code ec;
    std::filesystem::remove(path, ec);
    v = base64_encode(bytes);
  };
  if (out.is_array()) {
    for (auto& e : out) {
      if (e.is_object() && e.contains("mask"))
        take(e["mask"]);
      else
        take(e);
    }
  } else {
    take(out);
  }
}
}  // namespace

namespace {
// The longest text input of an Inference-API `inputs` (a string, {"text", "text_pair"}, or a list of them), in tokens
// as the model sees it (special tokens included, nothing truncated); 0 when no input is text.
std::size_t longest_text_input(const Backend& b, const Json& inputs) {
  std::vector<tokenizers::EncodeInput> in;
  const auto add = [&](const Json& j) {
    if (j.is_string()) {
      in.emplace_back(j.get<std::string>());
    } else if (j.is_object() && j.contains("text") && j["text"].is_string()) {
      if (j.contains("text_pair") && j["text_pair"].is_string())
        in.emplace_back(j["text"].get<std::string>(), j["text_pair"].get<std::string>());
      else
        in.emplace_back(j["text"].get<std::string>());
    }
  };
  if (inputs.is_array()) {
    for (const auto& j : inputs) add(j);
  } else {
    add(inputs);
  }
  if (in.empty()) return 0;
  tokenizers::EncodeOptions eo;  // no truncation, no padding (tokenizer.json may set both)
  eo.num_threads = 1;
  std::size_t longest = 0;
  for (const auto& e : b.tokenizer().backend().encode_batch(in, eo)) longest = std::max(longest, e.ids.size());
  return longest;
}
}  // namespace

void Api::pipeline(const CallPtr& call) {
  begin_inference(
      call, {ModelKind::Embedding, ModelKind::Sparse, ModelKind::Classifier, ModelKind::Reranker, ModelKind::Pipeline});
  const std::string& ct = call->request.content_type;
  const bool raw_media = ct.rfind("image/", 0) == 0 || ct.rfind("audio/", 0) == 0 || ct == "application/octet-stream";
  const bool media = is_media_task(backend_->task());
  std::shared_ptr<TempMedia> file;
  PipelineRequest req;
  if (raw_media) {
    if (!media)
      throw ServerError(ErrorType::Validation,
                        "a raw " + ct + " body needs an image or audio task, the model serves " + backend_->task());
    if (call->request.body.empty()) throw ServerError(ErrorType::Empty, "the request body is empty");
    file = std::make_shared<TempMedia>(call->request.body);
    req.inputs = file->path.string();
    if (!call->request.query.empty()) {
      // ?parameters are not read: a raw body carries the input only.
    }
  } else {
    req = parse_pipeline_request(parse_body(call->request.body));
    if (media) {
      // Never read server files named by a client: a string input of a media task is base64 of the file.
      if (!req.inputs.is_string())
        throw ServerError(ErrorType::Deserialize,
                          "`inputs` of " + backend_->task() +
                              " must be a base64 string (or send the raw file with Content-Type image/* or audio/*)");
      std::string s = req.inputs.get<std::string>();
      if (s.rfind("data:", 0) == 0 && s.find(',') != std::string::npos) s = s.substr(s.find(',') + 1);
      file = std::make_shared<TempMedia>(base64_decode(s));
      req.inputs = file->path.string();
    }
  }
  if (req.inputs.is_array()) {
    call->inputs = req.inputs.size();
    check_batch_size(req.inputs.size(), options_);
    if (req.inputs.empty()) throw ServerError(ErrorType::Empty, "`inputs` cannot be empty");
  } else {
    call->inputs = 1;
  }
  if (req.inputs.is_string() && req.inputs.get<std::string>().empty())
    throw ServerError(ErrorType::Empty, "`inputs` cannot be empty");
  engine_->submit_exclusive(
      [this, req, file, media] {
        try {
          Json out = backend_->run_pipeline(req.inputs, req.parameters);
          if (file) inline_written_images(out, file->path);
          return out;
        } catch (const ServerError&) {
          throw;
        } catch (const std::exception& e) {
          // A text longer than the model takes fails inside the pipeline (ONNX Runtime's Gather on the position
          // table, or the pipeline's own length check) unless a parameter truncates it: answer what /predict answers.
          if (!media && backend_->has_tokenizer()) {
            std::size_t given = 0;
            try {
              given = longest_text_input(*backend_, req.inputs);
            } catch (const std::exception&) {
              given = 0;  // not tokenizable: the pipeline's own error stands
            }
            if (given > backend_->max_input_length()) throw too_long(backend_->max_input_length(), given);
          }
          if (dynamic_cast<const InvalidArgument*>(&e))
            throw ServerError(ErrorType::Deserialize, e.what());  // a wrong input or parameter: 422
          throw ServerError(ErrorType::Backend, e.what());
        }
      },
      [this, call](Json out, std::exception_ptr err) {
        if (err) return respond_error(call, err);
        respond_json(call, out);
      });
}

}  // namespace ortformers::server
