#include "server/engine/generation_scheduler.hpp"

#include <algorithm>

#include "ortformers/core/error.hpp"
#include "server/engine/incremental_decoder.hpp"
#include "server/engine/token_chooser.hpp"
#include "server/errors.hpp"

namespace ortformers::server {

namespace {
using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}
}  // namespace

const char* to_string(FinishReason reason) noexcept {
  switch (reason) {
    case FinishReason::Length: return "length";
    case FinishReason::EosToken: return "eos_token";
    case FinishReason::StopSequence: return "stop_sequence";
    case FinishReason::Cancelled: return "cancelled";
    case FinishReason::Error: return "error";
  }
  return "error";
}

struct GenerationScheduler::Row {
  std::shared_ptr<GenerationRequest> req;
  std::unique_ptr<TokenChooser> chooser;
  std::unique_ptr<IncrementalDecoder> stream;
  GenerationResult result;
  std::int64_t pad = 0;             // leading masked positions of this row in its group's cache
  std::int64_t last = 0;            // the token to feed next
  std::int64_t decoder_prompt = 0;  // decoder tokens before the first new one (the prompt; 1 for encoder-decoder)
  std::size_t reserved = 0;
  std::size_t longest_stop = 0;
  std::unique_ptr<models::DecoderStep> prefill;  // decoder-only, until the whole prompt is in it
  std::int64_t prefilled = 0;                    // prompt tokens in `prefill` so far
  Clock::time_point first_token{};
  bool done = false;
  std::int64_t remaining() const {
    return req->params.max_new_tokens - static_cast<std::int64_t>(result.tokens.size());
  }
};

struct GenerationScheduler::Group {
  std::unique_ptr<models::DecoderStep> state;
  std::vector<std::unique_ptr<Row>> rows;
};

GenerationScheduler::GenerationScheduler(const models::GenerativeModel& model,
                                         const tokenizers::PreTrainedTokenizer& tokenizer, SchedulerOptions options,
                                         Metrics& metrics)
    : model_(model), tokenizer_(tokenizer), options_(std::move(options)), metrics_(metrics) {
  special_ids_ = tokenizer_.all_special_ids();
  std::sort(special_ids_.begin(), special_ids_.end());
  encoder_decoder_ = model_.is_encoder_decoder();
  if (encoder_decoder_) {
    const auto& c = options_.generation_config;
    const auto start = c.decoder_start_token_id ? c.decoder_start_token_id : c.bos_token_id;
    if (!start) {
      throw InvalidArgument(
          "serve: the encoder-decoder model's generation_config has neither decoder_start_token_id nor bos_token_id");
    }
    decoder_start_ = *start;
    pad_ = c.pad_token_id.value_or(tokenizer_.pad_token_id().value_or(0));
  }
  thread_ = std::thread([this] { loop(); });
}

GenerationScheduler::~GenerationScheduler() {
  stop();
}

std::size_t GenerationScheduler::queue_size() const {
  std::lock_guard lk(mu_);
  return waiting_.size();
}

void GenerationScheduler::check(const GenerationRequest& r) const {
  const std::size_t need = reserved_tokens(r);
  if (need > options_.max_batch_total_tokens) {
    const std::size_t inputs = r.prompt.size() + r.encoder_tokens;
    throw ServerError(
        ErrorType::Deserialize,
        "`inputs` tokens + `max_new_tokens` must be <= " + std::to_string(options_.max_batch_total_tokens) +
            ". Given: " + std::to_string(inputs) + (r.encoder_tokens ? " encoder positions" : " `inputs` tokens") +
            " and " + std::to_string(r.params.max_new_tokens) + " `max_new_tokens`");
  }
  std::lock_guard lk(mu_);
  if (stopping_) throw ServerError(ErrorType::Unhealthy, "the server is shutting down");
  if (!waiting_.empty() && waiting_tokens_ + need > options_.max_batch_total_tokens)
    throw ServerError(ErrorType::Overloaded, "Model is overloaded");
}

void GenerationScheduler::submit(std::shared_ptr<GenerationRequest> request) {
  check(*request);
  const std::size_t need = reserved_tokens(*request);
  request->enqueued = Clock::now();
  const std::size_t prompt_tokens = request->prompt.size();
  {
    std::lock_guard lk(mu_);
    if (stopping_) throw ServerError(ErrorType::Unhealthy, "the server is shutting down");
    if (!waiting_.empty() && waiting_tokens_ + need > options_.max_batch_total_tokens)
      throw ServerError(ErrorType::Overloaded, "Model is overloaded");
    waiting_.push_back(std::move(request));
    waiting_tokens_ += need;
  }
  metrics_.observe("tgi_request_input_length", static_cast<double>(prompt_tokens));
  cv_.notify_one();
}

void GenerationScheduler::stop() {
  {
    std::lock_guard lk(mu_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void GenerationScheduler::publish_gauges() {
  metrics_.set_gauge("tgi_queue_size", static_cast<double>(queue_size()));
  metrics_.set_gauge("tgi_batch_current_size", static_cast<double>(running_.load()));
  metrics_.set_gauge("tgi_batch_current_max_tokens", static_cast<double>(reserved_tokens_));
}

void GenerationScheduler::loop() {
  while (true) {
    std::vector<std::shared_ptr<GenerationRequest>> incoming;
    {
      std::unique_lock lk(mu_);
      cv_.wait(lk, [&] { return stopping_ || !waiting_.empty() || running_.load() > 0; });
      if (stopping_) break;
      std::size_t rows = running_.load();
      while (!waiting_.empty() && rows + incoming.size() < options_.max_batch_requests) {
        const auto& r = waiting_.front();
        const std::size_t need = reserved_tokens(*r);
        if (reserved_tokens_ + need > options_.max_batch_total_tokens) break;
        reserved_tokens_ += need;
        waiting_tokens_ -= need;
        incoming.push_back(std::move(waiting_.front()));
        waiting_.pop_front();
      }
    }
    // 1. Rows whose client went away.
    for (auto& g : groups_) {
      for (auto& row : g->rows) {
        if (!row->done && row->req->cancelled && row->req->cancelled()) finish(*row, FinishReason::Cancelled);
      }
    }
    for (auto& row : prefilling_)
      if (row->req->cancelled && row->req->cancelled()) finish(*row, FinishReason::Cancelled);
    prefilling_.erase(std::remove_if(prefilling_.begin(), prefilling_.end(), [](const auto& r) { return r->done; }),
                      prefilling_.end());
    // 2. Admit; 3. this step's prefill chunks; 4. one decode step for the rows that were running (and those that
    // joined their groups).
    const std::size_t running_groups = groups_.size();
    admit(incoming);
    prefill();
    for (std::size_t i = 0; i < running_groups && i < groups_.size(); ++i) decode(*groups_[i]);
    // 5. Retire.
    for (auto& g : groups_) {
      std::vector<std::int64_t> keep;
      for (std::size_t k = 0; k < g->rows.size(); ++k)
        if (!g->rows[k]->done) keep.push_back(static_cast<std::int64_t>(k));
      if (keep.size() == g->rows.size()) continue;
      std::vector<std::unique_ptr<Row>> rows;
      for (auto k : keep) rows.push_back(std::move(g->rows[static_cast<std::size_t>(k)]));
      g->rows = std::move(rows);
      if (g->rows.empty()) continue;
      try {
        g->state->select_rows(keep);
        std::int64_t common = g->state->past_length();
        for (auto& r : g->rows) common = std::min(common, r->pad);
        if (common > 0) {
          g->state->trim_past(common);
          for (auto& r : g->rows) r->pad -= common;
        }
      } catch (const std::exception& e) {
        for (auto& r : g->rows) finish(*r, FinishReason::Error, e.what());
        g->rows.clear();
      }
    }
    groups_.erase(std::remove_if(groups_.begin(), groups_.end(), [](const auto& g) { return g->rows.empty(); }),
                  groups_.end());
    std::size_t n = prefilling_.size();
    for (auto& g : groups_) n += g->rows.size();
    running_ = n;
    publish_gauges();
  }
  // Stopping: every request still here ends with an error.
  std::deque<std::shared_ptr<GenerationRequest>> waiting;
  {
    std::lock_guard lk(mu_);
    waiting.swap(waiting_);
    waiting_tokens_ = 0;
  }
  for (auto& g : groups_)
    for (auto& r : g->rows)
      if (!r->done) {
        r->result.overloaded = true;
        finish(*r, FinishReason::Error, "the server is shutting down");
      }
  groups_.clear();
  for (auto& r : prefilling_) {
    r->result.overloaded = true;
    finish(*r, FinishReason::Error, "the server is shutting down");
  }
  prefilling_.clear();
  for (auto& req : waiting) {
    GenerationResult res;
    res.finish_reason = FinishReason::Error;
    res.error = "the server is shutting down";
    res.overloaded = true;
    res.prompt_tokens = req->prompt.size();
    try {
      if (req->on_done) req->on_done(std::move(res));
    } catch (...) {
    }
  }
  running_ = 0;
  publish_gauges();
}

void GenerationScheduler::admit(std::vector<std::shared_ptr<GenerationRequest>>& incoming) {
  const std::int64_t vocab = model_.vocab_size();
  std::vector<std::unique_ptr<Row>> cohort;  // encoder-decoder: this step's rows
  for (auto& req : incoming) {
    auto row = std::make_unique<Row>();
    row->req = req;
    row->reserved = reserved_tokens(*req);
    row->result.prompt_tokens = req->prompt.size();
    row->result.queue_seconds = seconds_since(req->enqueued);
    row->decoder_prompt = encoder_decoder_ ? 1 : static_cast<std::int64_t>(req->prompt.size());
    metrics_.observe("tgi_request_queue_duration", row->result.queue_seconds);
    for (const auto& s : req->params.stop) row->longest_stop = std::max(row->longest_stop, s.size());
    if (req->cancelled && req->cancelled()) {
      finish(*row, FinishReason::Cancelled);
      continue;
    }
    try {
      const auto& config = req->generation_config ? *req->generation_config : options_.generation_config;
      if (encoder_decoder_) {
        row->chooser = std::make_unique<TokenChooser>(req->params, std::vector<std::int64_t>{decoder_start_}, vocab,
                                                      config, true, req->prompt);
      } else {
        row->chooser = std::make_unique<TokenChooser>(req->params, req->prompt, vocab, config);
      }
      if (row->chooser->sampling()) row->result.seed = row->chooser->seed();
      row->stream = std::make_unique<IncrementalDecoder>(tokenizer_, true, special_ids_);
    } catch (const std::exception& e) {
      finish(*row, FinishReason::Error, e.what());
      continue;
    }
    if (encoder_decoder_) {
      cohort.push_back(std::move(row));
      continue;
    }
    try {
      row->prefill = model_.start();
    } catch (const std::exception& e) {
      finish(*row, FinishReason::Error, e.what());
      continue;
    }
    prefilling_.push_back(std::move(row));  // prefill() runs its prompt, whole or in chunks
  }
  incoming.clear();
  if (!cohort.empty()) admit_cohort(cohort);
}

std::size_t GenerationScheduler::running_rows() const {
  std::size_t n = 0;
  for (const auto& g : groups_)
    for (const auto& r : g->rows) n += r->done ? 0 : 1;
  return n;
}

void GenerationScheduler::prefill() {
  const std::size_t limit = options_.max_batch_prefill_tokens;
  std::size_t spent = 0;  // prompt tokens run this step while some row was running
  // A row running when the step begins waits for its prefill: at most `limit` prompt tokens, unless the prompts to
  // prefill number at least waiting_served_ratio times the running rows (TGI's rule for pausing its running batch):
  // then, as with none running, every prompt runs whole, in turn. A burst (16 prompts arriving within one prefill of
  // each other) then starts together, the running rows waiting once, instead of all of them waiting for a chunk at
  // each of ~30 steps: on the benchmark Llama, inter-token p99 104-123 ms whole, 190-203 ms in 64-token chunks
  // (docs/serving.md).
  const std::size_t running = running_rows();
  const bool waited_on = limit > 0 && running > 0 &&
                         (options_.waiting_served_ratio <= 0 ||
                          static_cast<double>(prefilling_.size()) < options_.waiting_served_ratio * running);
  while (!prefilling_.empty()) {
    Row& row = *prefilling_.front();
    const auto& prompt = row.req->prompt;
    const auto left = static_cast<std::int64_t>(prompt.size()) - row.prefilled;
    std::int64_t chunk = left;
    if (waited_on) {
      if (spent >= limit) break;
      chunk = std::min(left, static_cast<std::int64_t>(limit - spent));
    }
    Tensor logits;
    try {
      const auto start = Clock::now();
      const auto from = prompt.begin() + row.prefilled;
      const std::int64_t total = row.prefilled + chunk;
      logits = row.prefill->step(
          Tensor::from_vector(std::vector<std::int64_t>(from, from + chunk), {1, chunk}),
          Tensor::from_vector(std::vector<std::int64_t>(static_cast<std::size_t>(total), 1), {1, total}));
      if (logits.dtype() != DType::Float32) logits = logits.to(DType::Float32);
      metrics_.observe("tgi_batch_inference_duration", seconds_since(start), "method=\"prefill\"");
    } catch (const std::exception& e) {
      finish(row, FinishReason::Error, e.what());
      prefilling_.pop_front();
      continue;
    }
    if (waited_on) spent += static_cast<std::size_t>(chunk);
    row.prefilled += chunk;
    if (row.prefilled < static_cast<std::int64_t>(prompt.size())) continue;  // its next chunk, budget allowing
    std::unique_ptr<Row> done = std::move(prefilling_.front());
    prefilling_.pop_front();
    std::unique_ptr<models::DecoderStep> state = std::move(done->prefill);
    if (emit(*done, done->chooser->choose(logits.data<float>()))) continue;
    join(std::move(done), std::move(state));
  }
}

void GenerationScheduler::join(std::unique_ptr<Row> row, std::unique_ptr<models::DecoderStep> state) {
  // The first running group whose past, padded, stays within the model's positions.
  const std::int64_t past = state->past_length();
  for (auto& g : groups_) {
    std::int64_t remaining = row->remaining();
    for (auto& r : g->rows) remaining = std::max(remaining, r->remaining());
    const std::int64_t merged = std::max(g->state->past_length(), past);
    if (options_.max_positions > 0 && merged + remaining > options_.max_positions) continue;
    const std::int64_t before = g->state->past_length();
    try {
      g->state->append_rows(*state);
    } catch (const UnsupportedError&) {
      continue;
    } catch (const std::exception& e) {
      finish(*row, FinishReason::Error, e.what());
      return;
    }
    const std::int64_t after = g->state->past_length();
    for (auto& r : g->rows) r->pad += after - before;
    row->pad = after - past;
    g->rows.push_back(std::move(row));
    return;
  }
  auto g = std::make_unique<Group>();
  g->state = std::move(state);
  g->rows.push_back(std::move(row));
  groups_.push_back(std::move(g));
}

void GenerationScheduler::admit_cohort(std::vector<std::unique_ptr<Row>>& rows) {
  // One encoder run over the cohort's prompts, right-padded as transformers' tokenizers pad T5 / BART inputs (the
  // encoder attention mask hides the padding from the encoder and from the decoder's cross-attention).
  // Speech rows (Whisper) stack their input_features [1, mels, frames] into one [n, mels, frames] batch instead.
  const auto n = static_cast<std::int64_t>(rows.size());
  auto g = std::make_unique<Group>();
  Tensor logits;
  try {
    const auto start = Clock::now();
    TensorMap inputs;
    if (!rows.front()->req->input_features.empty()) {
      const Tensor& first = rows.front()->req->input_features;
      if (first.rank() != 3 || first.dim(0) != 1)
        throw InvalidArgument("serve: input_features must be [1, num_mel_bins, frames], got " +
                              shape_to_string(first.shape()));
      const std::int64_t per = first.numel();
      std::vector<float> features;
      features.reserve(static_cast<std::size_t>(n * per));
      for (auto& r : rows) {
        const Tensor& f = r->req->input_features;
        if (f.shape() != first.shape() || f.dtype() != DType::Float32)
          throw InvalidArgument("serve: the input_features of one cohort must share one float32 shape, got " +
                                shape_to_string(f.shape()) + " and " + shape_to_string(first.shape()));
        const float* p = f.data<float>();
        features.insert(features.end(), p, p + per);
      }
      inputs.emplace("input_features", Tensor::from_vector(std::move(features), {n, first.dim(1), first.dim(2)}));
    } else {
      std::int64_t width = 0;
      for (auto& r : rows) width = std::max(width, static_cast<std::int64_t>(r->req->prompt.size()));
      std::vector<std::int64_t> ids(static_cast<std::size_t>(n * width), pad_),
          mask(static_cast<std::size_t>(n * width), 0);
      for (std::int64_t i = 0; i < n; ++i) {
        const auto& p = rows[static_cast<std::size_t>(i)]->req->prompt;
        for (std::size_t c = 0; c < p.size(); ++c) {
          ids[static_cast<std::size_t>(i * width) + c] = p[c];
          mask[static_cast<std::size_t>(i * width) + c] = 1;
        }
      }
      inputs.emplace("input_ids", Tensor::from_vector(std::move(ids), {n, width}));
      inputs.emplace("attention_mask", Tensor::from_vector(std::move(mask), {n, width}));
    }
    g->state = model_.start(inputs);
    logits = g->state->step(
        Tensor::from_vector(std::vector<std::int64_t>(static_cast<std::size_t>(n), decoder_start_), {n, 1}),
        Tensor::from_vector(std::vector<std::int64_t>(static_cast<std::size_t>(n), 1), {n, 1}));
    if (logits.dtype() != DType::Float32) logits = logits.to(DType::Float32);
    metrics_.observe("tgi_batch_inference_duration", seconds_since(start), "method=\"prefill\"");
  } catch (const std::exception& e) {
    for (auto& r : rows) finish(*r, FinishReason::Error, e.what());
    rows.clear();
    return;
  }
  const std::int64_t vocab = logits.dim(1);
  for (std::int64_t k = 0; k < n; ++k) {
    Row& r = *rows[static_cast<std::size_t>(k)];
    if (r.req->cancelled && r.req->cancelled()) {
      finish(r, FinishReason::Cancelled);
      continue;
    }
    emit(r, r.chooser->choose(logits.data<float>() + k * vocab));
  }
  // Finished rows leave with the other finished rows of this iteration (the retire step's select_rows).
  g->rows = std::move(rows);
  rows.clear();
  groups_.push_back(std::move(g));
}

void GenerationScheduler::decode(Group& g) {
  std::vector<Row*> live;
  for (auto& r : g.rows)
    if (!r->done) live.push_back(r.get());
  if (live.empty()) return;
  const std::int64_t rows = static_cast<std::int64_t>(g.rows.size()), total = g.state->past_length() + 1;
  std::vector<std::int64_t> ids, mask;
  ids.reserve(static_cast<std::size_t>(rows));
  mask.reserve(static_cast<std::size_t>(rows * total));
  for (auto& r : g.rows) {
    ids.push_back(r->last);
    for (std::int64_t c = 0; c < total; ++c) mask.push_back(c < r->pad ? 0 : 1);
  }
  Tensor logits;
  try {
    const auto start = Clock::now();
    logits = g.state->step(Tensor::from_vector(std::move(ids), {rows, 1}),
                           Tensor::from_vector(std::move(mask), {rows, total}));
    if (logits.dtype() != DType::Float32) logits = logits.to(DType::Float32);
    metrics_.observe("tgi_batch_inference_duration", seconds_since(start), "method=\"decode\"");
  } catch (const std::exception& e) {
    for (auto* r : live) finish(*r, FinishReason::Error, e.what());
    return;
  }
  const std::int64_t vocab = logits.dim(1);
  for (std::int64_t k = 0; k < rows; ++k) {
    Row& r = *g.rows[static_cast<std::size_t>(k)];
    if (r.done) continue;  // cancelled this step: its logits are dropped
    emit(r, r.chooser->choose(logits.data<float>() + k * vocab));
  }
}

bool GenerationScheduler::emit(Row& row, GeneratedToken token) {
  token.special = std::binary_search(special_ids_.begin(), special_ids_.end(), token.id);
  try {
    token.text = row.stream->step(token.id);
  } catch (const std::exception& e) {
    finish(row, FinishReason::Error, "decoding token " + std::to_string(token.id) + " failed: " + e.what());
    return true;
  }
  GenerationResult& res = row.result;
  const std::size_t before = res.generated_text.size();
  res.generated_text += token.text;
  if (res.tokens.empty()) {
    row.first_token = Clock::now();
    res.first_token_seconds = seconds_since(row.req->enqueued);
    metrics_.observe("tgi_request_first_token_duration", res.first_token_seconds);
  }
  std::optional<FinishReason> reason;
  const auto& eos = options_.eos_token_id;
  if (std::find(eos.begin(), eos.end(), token.id) != eos.end()) reason = FinishReason::EosToken;
  if (!reason && !row.req->params.stop.empty()) {
    const std::size_t from = before >= row.longest_stop ? before - row.longest_stop + 1 : 0;
    std::size_t best = std::string::npos;
    for (const auto& s : row.req->params.stop) {
      if (s.empty()) continue;
      const std::size_t at = res.generated_text.find(s, from);
      if (at != std::string::npos && at < best) {
        best = at;
        res.stop_sequence = s;
      }
    }
    if (best != std::string::npos) {
      reason = FinishReason::StopSequence;
      res.stop_position = best;
    }
  }
  const auto generated = static_cast<std::int64_t>(res.tokens.size()) + 1;
  if (!reason && generated >= row.req->params.max_new_tokens) reason = FinishReason::Length;
  if (!reason && options_.max_positions > 0 && row.decoder_prompt + generated >= options_.max_positions)
    reason = FinishReason::Length;
  if (reason) {
    const std::string rest = row.stream->flush();
    token.text += rest;
    res.generated_text += rest;
  }
  row.last = token.id;
  res.tokens.push_back(token);
  try {
    if (row.req->on_token) row.req->on_token(res.tokens.back(), reason.has_value());
  } catch (...) {
  }
  if (reason) finish(row, *reason);
  return reason.has_value();
}

void GenerationScheduler::finish(Row& row, FinishReason reason, const std::string& error) {
  if (row.done) return;
  row.done = true;
  reserved_tokens_ -= std::min(reserved_tokens_, row.reserved);
  GenerationResult& res = row.result;
  res.finish_reason = reason;
  res.error = error;
  res.total_seconds = seconds_since(row.req->enqueued);
  const auto n = res.tokens.size();
  metrics_.observe("tgi_request_generated_tokens", static_cast<double>(n));
  if (n > 1) {
    metrics_.observe("tgi_request_mean_time_per_token_duration",
                     seconds_since(row.first_token) / static_cast<double>(n - 1));
  }
  metrics_.observe("tgi_request_inference_duration", res.total_seconds - res.queue_seconds);
  if (reason == FinishReason::Cancelled) metrics_.increment("tgi_request_failure", "err=\"cancelled\"");
  if (reason == FinishReason::Error) metrics_.increment("tgi_request_failure", "err=\"generation\"");
  try {
    if (row.req->on_done) row.req->on_done(std::move(res));
  } catch (...) {
  }
}

}  // namespace ortformers::server
