// `ortformers serve` on encoder-decoder models (t5-tiny, bart-tiny of the fixtures, optimum's split / merged decoder
// exports): TGI's /generate and /generate_stream and OpenAI's /v1/completions against transformers 4.31's greedy
// generate() references (BART's generation_config constraints included: forced BOS / EOS, min_length,
// no_repeat_ngram_size); streamed text concatenates to the whole answer; concurrent streams equal their solo results;
// chat completions answer 422 without a chat template. The scheduler's cohorts on the real t5-tiny: a cohort of three
// rows (one encoder run, padded) gives each row its reference tokens, and a row cancelled mid-cohort leaves without
// disturbing the others.
#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "generation_support.hpp"
#include "ortformers/generation/generation_config.hpp"
#include "ortformers/models/seq2seq_lm.hpp"
#include "ortformers/tokenizers/pretrained_tokenizer.hpp"
#include "server/engine/generation_scheduler.hpp"
#include "server_fixture.hpp"

using namespace ortformers;
using namespace ortformers::testing;
namespace fs = std::filesystem;

namespace {

server::Server& s2s_server(const std::string& model) {
  return shared_server("s2s-" + model, [model] {
    auto fixtures = find_fixtures_dir();
    auto o = loopback_options((*fixtures / "onnx" / model).string());
    o.served_model_name = model;
    return o;
  });
}

const Json& reference(const fs::path& fixtures, const std::string& name) {
  static std::map<std::string, Json> cache;
  auto it = cache.find(name);
  if (it == cache.end()) it = cache.emplace(name, read_json_file(fixtures / "reference" / (name + ".json"))).first;
  return it->second;
}

// The new tokens of row `row` of a generate case (after the decoder start token; trailing pad after an eos dropped).
std::vector<std::int64_t> new_tokens(const Json& ref, const std::string& id, const std::string& input,
                                     std::size_t row) {
  for (const auto& g : ref.at("generate")) {
    if (g.at("id") != id || g.at("input") != input) continue;
    const auto seq = g.at("sequences")[row].get<std::vector<std::int64_t>>();
    return {seq.begin() + g.at("prompt_length").get<std::ptrdiff_t>(), seq.end()};
  }
  throw std::runtime_error("no generate case " + id);
}

class Seq2SeqServe : public ::testing::TestWithParam<const char*> {};

}  // namespace

TEST_P(Seq2SeqServe, GreedyRoutesEqualTheReference) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const std::string model = GetParam();
  auto& s = s2s_server(model);
  const Json& ref = reference(fixtures, model);
  const auto& texts = ref.at("tokenization");
  const auto tok = tokenizers::AutoTokenizer::from_pretrained(fixtures / "onnx" / model);
  HttpClient c(s.port());

  // TGI /generate, input0 alone: the reference's new tokens and their text.
  const auto want = new_tokens(ref, "greedy", "input0", 0);
  const auto r = c.post("/generate",
                        {{"inputs", texts[0].at("text")}, {"parameters", {{"max_new_tokens", 10}, {"details", true}}}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(token_ids(r.json().at("details")), want);
  const std::string whole = r.json().at("generated_text");
  EXPECT_EQ(whole, tok.decode(want, true, false));
  EXPECT_EQ(r.json().at("details").at("generated_tokens"), 10);

  // /generate_stream: the tokens' texts concatenate to the answer; the final event carries it whole.
  const auto st =
      c.post("/generate_stream", {{"inputs", texts[0].at("text")}, {"parameters", {{"max_new_tokens", 10}}}});
  ASSERT_EQ(st.status, 200) << st.body;
  const auto events = sse_data(st.body);
  ASSERT_EQ(events.size(), 10u);
  std::string concat;
  std::vector<std::int64_t> streamed;
  for (const auto& e : events) {
    const Json j = Json::parse(e);
    streamed.push_back(j.at("token").at("id"));
    if (!j.at("token").at("special").get<bool>()) concat += j.at("token").at("text").get<std::string>();
  }
  EXPECT_EQ(streamed, want);
  EXPECT_EQ(concat, whole);
  EXPECT_EQ(Json::parse(events.back()).at("generated_text"), whole);

  // OpenAI /v1/completions with the three prompts at once (one request: typically one cohort), greedy: each choice
  // is the batch reference's row; then each prompt alone.
  Json prompts = Json::array();
  for (const auto& t : texts) prompts.push_back(t.at("text"));
  const auto comp =
      c.post("/v1/completions", {{"model", model}, {"prompt", prompts}, {"max_tokens", 10}, {"temperature", 0}});
  ASSERT_EQ(comp.status, 200) << comp.body;
  const Json cj = comp.json();
  ASSERT_EQ(cj.at("choices").size(), texts.size());
  for (std::size_t i = 0; i < texts.size(); ++i) {
    const std::string expected = tok.decode(new_tokens(ref, "greedy", "batch", i), true, false);
    EXPECT_EQ(cj.at("choices")[i].at("text"), expected) << "prompt " << i;
    const auto solo = c.post(
        "/v1/completions", {{"model", model}, {"prompt", texts[i].at("text")}, {"max_tokens", 10}, {"temperature", 0}});
    ASSERT_EQ(solo.status, 200) << solo.body;
    EXPECT_EQ(solo.json().at("choices")[0].at("text"), expected) << "prompt " << i << " alone";
  }
  EXPECT_EQ(cj.at("usage").at("completion_tokens"), 30);

  // Token-id prompts go to the encoder as they are.
  const auto ids = c.post(
      "/v1/completions",
      {{"model", model}, {"prompt", Json::array({texts[1].at("input_ids")})}, {"max_tokens", 10}, {"temperature", 0}});
  ASSERT_EQ(ids.status, 200) << ids.body;
  EXPECT_EQ(ids.json().at("choices")[0].at("text"), tok.decode(new_tokens(ref, "greedy", "batch", 1), true, false));
}

TEST_P(Seq2SeqServe, ConcurrentStreamsEqualTheirSoloResultAndChatNeedsATemplate) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const std::string model = GetParam();
  auto& s = s2s_server(model);
  const Json& ref = reference(fixtures, model);
  const auto& texts = ref.at("tokenization");
  constexpr int kStreams = 12;
  auto body = [&](int i) {
    return Json{{"inputs", texts[static_cast<std::size_t>(i) % texts.size()].at("text")},
                {"parameters", {{"max_new_tokens", 3 + (i * 5) % 17}, {"repetition_penalty", 1.3}}}};
  };
  std::vector<std::string> solo(kStreams);
  {
    HttpClient c(s.port());
    for (int i = 0; i < kStreams; ++i) {
      const auto r = c.post("/generate", body(i));
      ASSERT_EQ(r.status, 200) << r.body;
      solo[static_cast<std::size_t>(i)] = r.json().at("generated_text");
    }
  }
  std::vector<std::future<std::string>> streams;
  for (int i = 0; i < kStreams; ++i) {
    streams.push_back(std::async(std::launch::async, [&, i] {
      HttpClient c(s.port());
      const auto r = c.post("/generate_stream", body(i));
      const auto events = sse_data(r.body);
      if (r.status != 200 || events.empty()) return std::string("<status ") + std::to_string(r.status) + ">";
      return Json::parse(events.back()).at("generated_text").get<std::string>();
    }));
  }
  for (int i = 0; i < kStreams; ++i)
    EXPECT_EQ(streams[static_cast<std::size_t>(i)].get(), solo[static_cast<std::size_t>(i)]) << "stream " << i;

  HttpClient c(s.port());
  const auto chat = c.post("/v1/chat/completions",
                           {{"model", model}, {"messages", Json::array({{{"role", "user"}, {"content", "Hi"}}})}});
  EXPECT_EQ(chat.status, 422) << chat.body;
  const auto info = c.get("/info");
  ASSERT_EQ(info.status, 200);
  EXPECT_EQ(info.json().at("is_encoder_decoder"), true);
  EXPECT_EQ(info.json().at("chat_template"), false);
  EXPECT_GT(info.json().at("max_input_tokens").get<std::int64_t>(), 0);
  // The decoder's positions bound max_new_tokens (BART: 128 positions, the decoder start token included).
  if (model == "bart-tiny") {
    const auto big = c.post("/generate", {{"inputs", "Hello"}, {"parameters", {{"max_new_tokens", 128}}}});
    EXPECT_EQ(big.status, 422) << big.body;
  }
}

INSTANTIATE_TEST_SUITE_P(Models, Seq2SeqServe, ::testing::Values("t5-tiny", "bart-tiny"));

// The scheduler on the real t5-tiny: a first request holds the scheduler thread (its `cancelled` poll blocks) while
// four more are queued, so those four are admitted at one step and form one cohort. Each row's tokens equal the
// batch reference (= its solo result); the fourth row, cancelled after three tokens, leaves the cohort (select_rows)
// without changing the others.
TEST(Seq2SeqScheduler, ACohortGivesEachRowItsSoloTokens) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const auto dir = fixtures / "onnx" / "t5-tiny";
  const auto model = models::ORTModelForSeq2SeqLM::from_pretrained(dir.string());
  const auto tok = tokenizers::AutoTokenizer::from_pretrained(dir);
  const Json& ref = reference(fixtures, "t5-tiny");
  const auto& texts = ref.at("tokenization");
  server::Metrics metrics;
  server::SchedulerOptions so;
  so.generation_config = generation::GenerationConfig::from_pretrained(dir);
  so.eos_token_id = so.generation_config.eos_token_id;
  so.max_positions = model.max_positions();
  server::GenerationScheduler s(model, tok, so, metrics);

  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<int> polls{0};
  auto make = [&](std::size_t i, std::int64_t max_new) {
    auto r = std::make_shared<server::GenerationRequest>();
    r->prompt = texts[i].at("input_ids").get<std::vector<std::int64_t>>();
    r->params.max_new_tokens = max_new;
    return r;
  };
  std::vector<std::promise<server::GenerationResult>> done(5);
  auto blocker = make(0, 10);
  blocker->cancelled = [&] {
    if (++polls == 2) released.wait();  // the second poll: the blocker's row is running
    return false;
  };
  blocker->on_done = [&](server::GenerationResult r) { done[0].set_value(std::move(r)); };
  s.submit(blocker);
  while (polls.load() < 2) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  for (std::size_t i = 0; i < 3; ++i) {
    auto r = make(i, 10);
    r->on_done = [&, i](server::GenerationResult res) { done[i + 1].set_value(std::move(res)); };
    s.submit(r);
  }
  auto cancelled = make(1, 10);
  std::atomic<int> seen{0};
  cancelled->on_token = [&](const server::GeneratedToken&, bool) { ++seen; };
  cancelled->cancelled = [&] { return seen.load() >= 3; };
  cancelled->on_done = [&](server::GenerationResult res) { done[4].set_value(std::move(res)); };
  s.submit(cancelled);
  EXPECT_EQ(s.queue_size(), 4u);  // all waiting while the scheduler thread is held
  release.set_value();
  auto ids_of = [](const server::GenerationResult& r) {
    std::vector<std::int64_t> ids;
    for (const auto& t : r.tokens) ids.push_back(t.id);
    return ids;
  };
  const auto r0 = done[0].get_future().get();
  EXPECT_EQ(ids_of(r0), new_tokens(ref, "greedy", "input0", 0));
  for (std::size_t i = 0; i < 3; ++i) {
    const auto r = done[i + 1].get_future().get();
    EXPECT_EQ(ids_of(r), new_tokens(ref, "greedy", "batch", i)) << "cohort row " << i;
    EXPECT_EQ(r.generated_text, tok.decode(ids_of(r), true, false));
    EXPECT_EQ(r.finish_reason, server::FinishReason::Length);
  }
  const auto rc = done[4].get_future().get();
  EXPECT_EQ(rc.finish_reason, server::FinishReason::Cancelled);
  EXPECT_LE(rc.tokens.size(), 4u);
  const auto prefix = new_tokens(ref, "greedy", "batch", 1);
  EXPECT_EQ(ids_of(rc),
            std::vector<std::int64_t>(prefix.begin(), prefix.begin() + static_cast<std::ptrdiff_t>(rc.tokens.size())));
  s.stop();
}
