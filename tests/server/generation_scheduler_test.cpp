// GenerationScheduler on a scripted model (its next token is a function of the row's last token; a gate holds its
// steps): the token budget (admission waits for room, 429 when the waiting requests hold a whole budget, 422 for a
// request that could never fit), rows joining and leaving a running batch keep their own sequences and attention
// masks (every mask has exactly the row's own tokens set), cancellation, stop, chunked prefill (a running row waits
// at most max_batch_prefill_tokens prompt tokens between two of its tokens; prompts continue their cache chunk by
// chunk).
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

#include "ortformers/core/error.hpp"
#include "server/engine/generation_scheduler.hpp"
#include "server/errors.hpp"
#include "support/fixtures.hpp"

using namespace ortformers;
using namespace ortformers::server;

namespace {

constexpr std::int64_t kVocab = 50257;  // gpt2-tiny's tokenizer decodes the ids
std::int64_t next_of(std::int64_t id) {
  return (id * 7 + 3) % 1000 + 1000;  // never the eos id (50256)
}

struct Gate {
  std::mutex mu;
  std::condition_variable cv;
  bool open = true;
  std::size_t max_rows = 0;
  std::size_t steps = 0;
  std::string error;  // a broken invariant seen by a step
  // Every run and token in order: {'p', prompt ids in the run} for a prefill run (prompt ids are < 1000, generated
  // ones >= 1000), {'t', request} for a token streamed (chunked prefill test).
  std::vector<std::pair<char, std::int64_t>> log;
  std::size_t calls = 0, close_at = 0;  // the gate closes itself at step call `close_at` (0: never)
  std::size_t held = 0;                 // steps that found the gate closed
  void wait() {
    std::unique_lock lk(mu);
    if (++calls == close_at) open = false;
    if (!open) ++held;
    cv.wait(lk, [&] { return open; });
  }
  void wait_held() {
    while (true) {
      {
        std::lock_guard lk(mu);
        if (held > 0) return;
      }
      std::this_thread::yield();
    }
  }
  void set(bool o) {
    {
      std::lock_guard lk(mu);
      open = o;
    }
    cv.notify_all();
  }
};

class ScriptedStep : public models::DecoderStep {
 public:
  explicit ScriptedStep(Gate& gate) : gate_(gate) {}
  Tensor step(const Tensor& input_ids, const Tensor& attention_mask) override {
    gate_.wait();
    const std::int64_t rows = input_ids.dim(0), n = input_ids.dim(1);
    if (lengths_.empty()) lengths_.assign(static_cast<std::size_t>(rows), 0);
    std::vector<float> logits(static_cast<std::size_t>(rows * kVocab), 0.f);
    const auto ids = input_ids.span<std::int64_t>();
    const auto mask = attention_mask.span<std::int64_t>();
    const std::int64_t total = attention_mask.dim(1);
    {
      std::lock_guard lk(gate_.mu);
      gate_.max_rows = std::max(gate_.max_rows, static_cast<std::size_t>(rows));
      gate_.steps++;
      if (total != past_ + n) gate_.error = "mask width " + std::to_string(total);
      std::int64_t prompt_ids = 0;
      for (auto id : ids) prompt_ids += id < 1000 ? 1 : 0;
      if (prompt_ids != 0 && prompt_ids != rows * n) gate_.error = "a run mixes prompt and generated ids";
      if (prompt_ids) gate_.log.emplace_back('p', prompt_ids);
      for (std::int64_t r = 0; r < rows; ++r) {
        std::int64_t ones = 0;
        for (std::int64_t c = 0; c < total; ++c) ones += mask[static_cast<std::size_t>(r * total + c)];
        lengths_[static_cast<std::size_t>(r)] += n;
        if (ones != lengths_[static_cast<std::size_t>(r)])
          gate_.error = "row mask has " + std::to_string(ones) + " ones";
      }
    }
    for (std::int64_t r = 0; r < rows; ++r)
      logits[static_cast<std::size_t>(r * kVocab + next_of(ids[static_cast<std::size_t>(r * n + n - 1)]))] = 10.f;
    past_ += n;
    return Tensor::from_vector(std::move(logits), {rows, kVocab});
  }
  void select_rows(std::span<const std::int64_t> rows) override {
    std::vector<std::int64_t> l;
    for (auto r : rows) l.push_back(lengths_.at(static_cast<std::size_t>(r)));
    lengths_ = std::move(l);
  }
  void append_rows(DecoderStep& other) override {
    auto& o = dynamic_cast<ScriptedStep&>(other);
    past_ = std::max(past_, o.past_);
    lengths_.insert(lengths_.end(), o.lengths_.begin(), o.lengths_.end());
    o.lengths_.clear();
    o.past_ = 0;
  }
  void trim_past(std::int64_t count) override { past_ -= count; }
  std::int64_t rows() const override { return static_cast<std::int64_t>(lengths_.size()); }
  std::int64_t past_length() const override { return past_; }

 private:
  Gate& gate_;
  std::int64_t past_ = 0;
  std::vector<std::int64_t> lengths_;
};

class ScriptedModel : public models::GenerativeModel {
 public:
  explicit ScriptedModel(Gate& gate) : gate_(gate) {}
  std::unique_ptr<models::DecoderStep> start(const TensorMap&) const override {
    return std::make_unique<ScriptedStep>(gate_);
  }
  bool is_encoder_decoder() const override { return false; }
  std::int64_t vocab_size() const override { return kVocab; }

 private:
  Gate& gate_;
};

struct Outcome {
  std::promise<GenerationResult> promise;
  std::vector<std::int64_t> streamed;  // read after the promise is set
  std::atomic<std::size_t> count{0};
};

std::shared_ptr<GenerationRequest> request(std::vector<std::int64_t> prompt, std::int64_t max_new,
                                           std::shared_ptr<Outcome> out) {
  auto r = std::make_shared<GenerationRequest>();
  r->prompt = std::move(prompt);
  r->params.max_new_tokens = max_new;
  r->on_token = [out](const GeneratedToken& t, bool) {
    out->streamed.push_back(t.id);
    out->count.fetch_add(1);
  };
  r->on_done = [out](GenerationResult res) { out->promise.set_value(std::move(res)); };
  return r;
}

std::vector<std::int64_t> expected(std::int64_t last, std::int64_t n) {
  std::vector<std::int64_t> out;
  for (std::int64_t i = 0; i < n; ++i) out.push_back(last = next_of(last));
  return out;
}

std::vector<std::int64_t> ids_of(const GenerationResult& r) {
  std::vector<std::int64_t> ids;
  for (const auto& t : r.tokens) ids.push_back(t.id);
  return ids;
}

using Requests = std::vector<std::pair<std::vector<std::int64_t>, std::int64_t>>;  // prompt, max_new_tokens

// Every request's ids are those of its solo run.
void expect_results(const std::vector<std::shared_ptr<Outcome>>& outs, const Requests& reqs) {
  for (std::size_t i = 0; i < reqs.size(); ++i) {
    const GenerationResult r = outs[i]->promise.get_future().get();
    EXPECT_EQ(ids_of(r), expected(reqs[i].first.back(), reqs[i].second)) << "request " << i;
  }
}

const tokenizers::PreTrainedTokenizer& gpt2_tokenizer(const std::filesystem::path& fixtures) {
  static const auto tok = tokenizers::AutoTokenizer::from_pretrained(fixtures / "onnx" / "gpt2-tiny");
  return tok;
}

}  // namespace

TEST(GenerationScheduler, RowsJoinAndLeaveWithTheirOwnSequences) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  Gate gate;
  ScriptedModel model(gate);
  Metrics metrics;
  GenerationScheduler s(model, gpt2_tokenizer(fixtures), SchedulerOptions{.eos_token_id = {50256}}, metrics);
  std::vector<std::shared_ptr<Outcome>> outs;
  const Requests reqs = {{{5, 6, 7}, 12}, {{9}, 3}, {{11, 12, 13, 14, 15, 16}, 20}, {{2, 3}, 7}, {{40}, 1}};
  for (std::size_t i = 0; i < reqs.size(); ++i) {
    outs.push_back(std::make_shared<Outcome>());
    s.submit(request(reqs[i].first, reqs[i].second, outs.back()));
    if (i == 1) std::this_thread::sleep_for(std::chrono::milliseconds(5));  // later ones join a running batch
  }
  for (std::size_t i = 0; i < reqs.size(); ++i) {
    const GenerationResult r = outs[i]->promise.get_future().get();
    EXPECT_EQ(ids_of(r), expected(reqs[i].first.back(), reqs[i].second)) << "request " << i;
    EXPECT_EQ(outs[i]->streamed, ids_of(r));
    EXPECT_EQ(r.finish_reason, FinishReason::Length);
    EXPECT_EQ(r.prompt_tokens, reqs[i].first.size());
  }
  std::lock_guard lk(gate.mu);
  EXPECT_EQ(gate.error, "");
  EXPECT_GE(gate.max_rows, 2u);
}

TEST(GenerationScheduler, TokenBudgetQueuesThenRefuses) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  Gate gate;
  ScriptedModel model(gate);
  Metrics metrics;
  SchedulerOptions o;
  o.max_batch_total_tokens = 64;
  GenerationScheduler s(model, gpt2_tokenizer(fixtures), o, metrics);
  gate.set(false);
  auto a = std::make_shared<Outcome>(), b = std::make_shared<Outcome>(), c = std::make_shared<Outcome>();
  s.submit(request({1, 2, 3, 4}, 50, a));  // 54 tokens: runs (its prefill waits at the gate)
  while (s.batch_size() == 0 && s.queue_size() != 0) std::this_thread::yield();
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  s.submit(request({5, 6, 7, 8}, 50, b));  // 54: no room beside a, waits
  try {
    s.submit(request({9, 10, 11, 12}, 50, c));  // the waiting requests would hold more than the budget
    ADD_FAILURE() << "expected 429";
  } catch (const ServerError& e) {
    EXPECT_EQ(e.type, ErrorType::Overloaded);
    EXPECT_EQ(http_status(e.type), 429);
  }
  try {
    s.submit(request({1}, 64, c));  // 65 > 64: could never run
    ADD_FAILURE() << "expected 422";
  } catch (const ServerError& e) {
    EXPECT_EQ(http_status(e.type), 422);
  }
  gate.set(true);
  const auto ra = a->promise.get_future().get(), rb = b->promise.get_future().get();
  EXPECT_EQ(ids_of(ra), expected(4, 50));
  EXPECT_EQ(ids_of(rb), expected(8, 50));
  std::lock_guard lk(gate.mu);
  EXPECT_EQ(gate.max_rows, 1u);  // never both at once: the budget holds one of them
  EXPECT_EQ(gate.error, "");
}

TEST(GenerationScheduler, CancelledRowsLeaveAndStopEndsTheRest) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  Gate gate;
  ScriptedModel model(gate);
  Metrics metrics;
  auto s = std::make_unique<GenerationScheduler>(model, gpt2_tokenizer(fixtures), SchedulerOptions{}, metrics);
  auto cancel = std::make_shared<std::atomic<bool>>(false);
  auto a = std::make_shared<Outcome>(), b = std::make_shared<Outcome>();
  auto ra = request({1, 2}, 1000, a);
  ra->cancelled = [cancel] { return cancel->load(); };
  s->submit(ra);
  s->submit(request({3}, 15000, b));
  while (a->count.load() < 3) std::this_thread::yield();
  cancel->store(true);
  const auto res = a->promise.get_future().get();
  EXPECT_EQ(res.finish_reason, FinishReason::Cancelled);
  EXPECT_LT(res.tokens.size(), 1000u);
  // b is still running: hold its step, ask for the stop, then let the step end.
  gate.set(false);
  std::thread stopper([&] { s->stop(); });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  gate.set(true);
  stopper.join();
  const auto rb = b->promise.get_future().get();
  EXPECT_EQ(rb.finish_reason, FinishReason::Error);
  EXPECT_TRUE(rb.overloaded);
  EXPECT_THROW(s->submit(request({1}, 2, std::make_shared<Outcome>())), ServerError);
  EXPECT_EQ(metrics.counter("tgi_request_failure", "err=\"cancelled\""), 1);
}

TEST(GenerationScheduler, StopStringsAndEos) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  Gate gate;
  ScriptedModel model(gate);
  Metrics metrics;
  const auto& tok = gpt2_tokenizer(fixtures);
  // eos: the scripted model's 2nd token after 5 is next_of(next_of(5)); call that one eos.
  const std::int64_t second = next_of(next_of(5));
  GenerationScheduler s(model, tok, SchedulerOptions{.eos_token_id = {second}}, metrics);
  auto a = std::make_shared<Outcome>();
  s.submit(request({5}, 10, a));
  const auto ra = a->promise.get_future().get();
  EXPECT_EQ(ra.finish_reason, FinishReason::EosToken);
  EXPECT_EQ(ra.tokens.size(), 2u);
  // A stop string: the text of the 3rd and 4th tokens after 7.
  const auto e = expected(7, 6);
  const std::string stop = tok.decode(std::vector<std::int64_t>{e[2], e[3]}, true, false);
  auto b = std::make_shared<Outcome>();
  auto rb = request({7}, 6, b);
  rb->params.stop = {stop};
  s.submit(rb);
  const auto res = b->promise.get_future().get();
  EXPECT_EQ(res.finish_reason, FinishReason::StopSequence);
  EXPECT_EQ(res.stop_sequence, stop);
  EXPECT_LE(res.tokens.size(), 4u);
  EXPECT_EQ(res.generated_text.substr(res.stop_position), stop);
}

namespace {

// Chunked prefill scenario: A (a 6-token prompt, 40 new tokens) runs alone; then five prompts of 3 to 13 tokens
// arrive together while it runs. Returns the largest number of prompt tokens run between two consecutive tokens of
// any row; checks every row's sequence, that each prompt token ran exactly once, and that A's prompt ran whole.
std::int64_t longest_prefill_wait(const std::filesystem::path& fixtures, std::size_t limit, double ratio = 0) {
  Gate gate;
  ScriptedModel model(gate);
  Metrics metrics;
  gate.close_at = 3;  // A's prefill, its first decode, then held
  SchedulerOptions o;
  o.eos_token_id = {50256};
  o.max_batch_prefill_tokens = limit;
  o.waiting_served_ratio = ratio;
  GenerationScheduler s(model, gpt2_tokenizer(fixtures), o, metrics);
  const Requests reqs = {{{5, 6, 7, 8, 9, 10}, 40}, {{21, 22, 23, 24, 25, 26, 27, 28, 29}, 9},
                         {{31, 32, 33, 34, 35}, 6}, {{41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53}, 10},
                         {{61, 62, 63}, 7},         {{71, 72, 73, 74, 75, 76, 77, 78, 79, 80}, 8}};
  std::vector<std::shared_ptr<Outcome>> outs;
  std::int64_t prompt_tokens = 0;
  for (std::size_t i = 0; i < reqs.size(); ++i) {
    outs.push_back(std::make_shared<Outcome>());
    auto r = request(reqs[i].first, reqs[i].second, outs.back());
    r->on_token = [&gate, i, inner = r->on_token](const GeneratedToken& t, bool last) {
      {
        std::lock_guard lk(gate.mu);
        gate.log.emplace_back('t', static_cast<std::int64_t>(i));
      }
      inner(t, last);
    };
    prompt_tokens += static_cast<std::int64_t>(reqs[i].first.size());
    s.submit(r);
    if (i == 0) gate.wait_held();  // A's second decode step: the others queue meanwhile, admitted at the next step
  }
  gate.set(true);
  expect_results(outs, reqs);
  std::lock_guard lk(gate.mu);
  EXPECT_EQ(gate.error, "");
  std::int64_t run = 0, worst = 0;
  std::vector<std::int64_t> since(reqs.size(), -1);  // prompt tokens run since each row's last token (-1: none yet)
  for (const auto& [kind, v] : gate.log) {
    if (kind == 'p') {
      run += v;
      for (auto& w : since)
        if (w >= 0) w += v;
    } else {
      auto& w = since[static_cast<std::size_t>(v)];
      worst = std::max(worst, w);
      w = 0;
    }
  }
  EXPECT_EQ(run, prompt_tokens);  // every prompt token once: chunks continue their cache
  EXPECT_FALSE(gate.log.empty());
  if (!gate.log.empty()) {
    EXPECT_EQ(gate.log.front(), std::make_pair('p', std::int64_t{6}));  // alone: whole
  }
  return worst;
}

}  // namespace

TEST(GenerationScheduler, ChunkedPrefillDelaysARunningRowByOneChunkAtMost) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  EXPECT_LE(longest_prefill_wait(fixtures, 4), 4);
  EXPECT_LE(longest_prefill_wait(fixtures, 1), 1);
  // Without the limit the five prompts (40 tokens) run in the step that admits them, between two tokens of A.
  EXPECT_EQ(longest_prefill_wait(fixtures, 0), 40);
}

// TGI's --waiting-served-ratio: five prompts arriving while one row runs are a burst at ratio 1.2 (5 >= 1.2 x 1):
// prefilled whole in the step that admits them; at ratio 10 (5 < 10 x 1) they are chunked.
TEST(GenerationScheduler, ABurstOfPromptsIsPrefilledWholeAtTheWaitingServedRatio) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  EXPECT_EQ(longest_prefill_wait(fixtures, 4, 1.2), 40);
  EXPECT_EQ(longest_prefill_wait(fixtures, 4, 5.0), 40);
  EXPECT_LE(longest_prefill_wait(fixtures, 4, 5.1), 4);
  EXPECT_LE(longest_prefill_wait(fixtures, 4, 10.0), 4);
}

// Prompts admitted together while no row runs are prefilled whole, each in turn, in the step that admits them, whatever
// the limit: nobody was waiting on that step. (Chunking them would make the first one's row wait for a chunk at each
// of many steps, and every row that joins after it too.)
TEST(GenerationScheduler, PromptsAdmittedWithNothingRunningArePrefilledWhole) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  Gate gate;
  ScriptedModel model(gate);
  Metrics metrics;
  gate.close_at = 1;  // A's prefill holds the scheduler while B, C and D queue; A then ends after its one token
  SchedulerOptions o;
  o.eos_token_id = {50256};
  o.max_batch_prefill_tokens = 2;
  o.waiting_served_ratio = 0;  // always chunk while a row runs: here none does
  GenerationScheduler s(model, gpt2_tokenizer(fixtures), o, metrics);
  const Requests reqs = {
      {{5, 6, 7}, 1}, {{21, 22, 23, 24, 25}, 5}, {{31, 32, 33, 34}, 4}, {{41, 42, 43, 44, 45, 46}, 6}};
  std::vector<std::shared_ptr<Outcome>> outs;
  for (std::size_t i = 0; i < reqs.size(); ++i) {
    outs.push_back(std::make_shared<Outcome>());
    s.submit(request(reqs[i].first, reqs[i].second, outs.back()));
    if (i == 0) gate.wait_held();
  }
  gate.set(true);
  expect_results(outs, reqs);
  std::lock_guard lk(gate.mu);
  EXPECT_EQ(gate.error, "");
  std::vector<std::int64_t> prefills;
  for (const auto& [kind, v] : gate.log)
    if (kind == 'p') prefills.push_back(v);
  EXPECT_EQ(prefills, (std::vector<std::int64_t>{3, 5, 4, 6}));  // each prompt in one run
}
