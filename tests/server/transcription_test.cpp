// OpenAI's POST /v1/audio/transcriptions on whisper-tiny of the fixtures, run by the generation scheduler: every audio
// file's text equals transformers 4.31's ASR pipeline / generate() reference; streamed transcript.text.delta events
// concatenate to the non-streamed text and end with transcript.text.done; concurrent requests equal their solo
// results; a client that leaves is cancelled (via /metrics); the token budget answers 422 / 429; bad input (not audio,
// no file, malformed multipart, unknown or unsupported fields, audio over 30 s) answers the right 4xx with a message.
// The scheduler on the real model: one cohort of three rows (one encoder run), each with its own language / task
// forced ids, gives each row its reference tokens.
#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <cmath>
#include <future>
#include <optional>
#include <sstream>
#include <thread>

#include "generation_support.hpp"
#include "ortformers/generation/generation_config.hpp"
#include "ortformers/generation/whisper.hpp"
#include "ortformers/models/speech_seq2seq.hpp"
#include "ortformers/preprocessing/audio.hpp"
#include "ortformers/preprocessing/whisper_feature_extractor.hpp"
#include "ortformers/tokenizers/pretrained_tokenizer.hpp"
#include "server/engine/generation_scheduler.hpp"
#include "server/metrics.hpp"
#include "transcription_support.hpp"

using namespace ortformers;
using namespace ortformers::testing;
namespace fs = std::filesystem;

namespace {

// Each transcription runs a 30 s log-mel and the encoder (about 0.5 s on the loaded 2-core machine): the sanitizer
// build runs a representative subset.
#if defined(__SANITIZE_ADDRESS__)
constexpr std::size_t kReferenceCases = 4, kConcurrent = 6, kOverload = 8;
#else
constexpr std::size_t kReferenceCases = 100, kConcurrent = 8, kOverload = 12;
#endif

const Json& whisper_reference(const fs::path& fixtures) {
  static const Json ref = read_json_file(fixtures / "reference" / "whisper-tiny.json");
  return ref;
}

struct Case {
  std::string file;  // relative to the fixtures
  std::optional<std::string> language;
  std::int64_t max_new_tokens = 0;
  std::string text;
  std::string what;
};

// The reference transcriptions of files the route can make: the ASR pipeline's (file inputs, transcribe, no
// timestamps or chunking; ffmpeg-decoded as the route decodes) and generate()'s default / English cases.
std::vector<Case> reference_cases(const fs::path& fixtures) {
  const Json& ref = whisper_reference(fixtures);
  std::vector<Case> out;
  for (const auto& p : ref.at("pipelines").at("automatic-speech-recognition")) {
    const Json& kw = p.at("kwargs");
    bool plain = true;
    for (const auto& [k, v] : kw.items()) plain = plain && (k == "generate_kwargs" || k == "batch_size");
    if (!plain) continue;
    const Json& g = kw.at("generate_kwargs");
    if (g.contains("task") && g.at("task") != "transcribe") continue;
    std::optional<std::string> language;
    if (g.contains("language")) language = g.at("language").get<std::string>();
    const auto max_new = g.at("max_new_tokens").get<std::int64_t>();
    const auto add = [&](const Json& in, const Json& res) {
      if (!in.is_string()) return;  // {raw, sampling_rate} dicts are resampled by torchaudio, not read from a file
      out.push_back({in.get<std::string>(), language, max_new, res.at("text").get<std::string>(),
                     "pipeline " + in.get<std::string>() + " " + g.dump()});
    };
    if (p.at("input").is_array()) {
      for (std::size_t i = 0; i < p.at("input").size(); ++i) add(p.at("input")[i], p.at("output")[i]);
    } else {
      add(p.at("input"), p.at("output"));
    }
  }
  for (const auto& g : ref.at("generate")) {
    const std::string id = g.at("id");
    if (id != "default" && id != "language_en_transcribe") continue;
    const Json& files = ref.at("generate_inputs").at(g.at("input").get<std::string>());
    std::optional<std::string> language;
    if (g.at("kwargs").contains("language")) language = g.at("kwargs").at("language").get<std::string>();
    for (std::size_t i = 0; i < files.size(); ++i) {
      out.push_back({files[i].get<std::string>(), language, g.at("kwargs").at("max_new_tokens").get<std::int64_t>(),
                     g.at("texts")[i].get<std::string>(), "generate " + id + " " + files[i].get<std::string>()});
    }
  }
  return out;
}

std::vector<FormField> fields_for(const fs::path& fixtures, const Case& c, const std::string& format = "json",
                                  bool stream = false) {
  std::vector<FormField> f = {{"file", file_bytes(fixtures / c.file), fs::path(c.file).filename().string()},
                              {"model", "whisper-tiny"},
                              {"response_format", format},
                              {"max_new_tokens", std::to_string(c.max_new_tokens)}};
  if (c.language) f.push_back({"language", *c.language});
  if (stream) f.push_back({"stream", "true"});
  return f;
}

double metric(const std::string& text, const std::string& name) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(name + " ", 0) == 0) return std::stod(line.substr(name.size() + 1));
  }
  return -1;
}

}  // namespace

TEST(Transcriptions, EachAudioEqualsTheReferenceText) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  auto& s = whisper_server();
  HttpClient c(s.port());
  const auto cases = reference_cases(fixtures);
  ASSERT_GE(cases.size(), 8u);
  for (std::size_t i = 0; i < cases.size() && i < kReferenceCases; ++i) {
    const Case& k = cases[i * (cases.size() > kReferenceCases ? cases.size() / kReferenceCases : 1)];
    const auto r = post_form(c, fields_for(fixtures, k));
    ASSERT_EQ(r.status, 200) << k.what << ": " << r.body;
    EXPECT_EQ(r.json().at("text"), k.text) << k.what;
    EXPECT_EQ(r.json().at("usage").at("type"), "duration");
  }
  // response_format text: the text alone.
  const auto t = post_form(c, fields_for(fixtures, cases[0], "text"));
  ASSERT_EQ(t.status, 200) << t.body;
  EXPECT_EQ(t.body, cases[0].text);
  EXPECT_EQ(t.headers.at("Content-Type").rfind("text/plain", 0), 0u);
  // usage: the audio's length in whole seconds, rounded up.
  const auto samples = preprocessing::load_audio_mono(fixtures / cases[0].file, 16000);
  const auto j = post_form(c, fields_for(fixtures, cases[0])).json();
  EXPECT_EQ(j.at("usage").at("seconds").get<std::int64_t>(),
            static_cast<std::int64_t>(std::ceil(static_cast<double>(samples.size()) / 16000)));
}

TEST(Transcriptions, StreamedDeltasConcatenateToTheText) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  auto& s = whisper_server();
  HttpClient c(s.port());
  for (const std::int64_t max_new : {12, 40}) {
    Case k{"media/audio/speech_16k_mono.wav", std::nullopt, max_new, "", ""};
    const auto whole = post_form(c, fields_for(fixtures, k));
    ASSERT_EQ(whole.status, 200) << whole.body;
    const std::string text = whole.json().at("text");
    const auto st = post_form(c, fields_for(fixtures, k, "json", true));
    ASSERT_EQ(st.status, 200) << st.body;
    EXPECT_EQ(st.headers.at("Content-Type"), "text/event-stream");
    const auto events = sse_data(st.body);
    ASSERT_GE(events.size(), 3u) << st.body;
    std::string joined;
    for (std::size_t i = 0; i + 1 < events.size(); ++i) {
      const Json e = Json::parse(events[i]);
      ASSERT_EQ(e.at("type"), "transcript.text.delta") << events[i];
      EXPECT_FALSE(e.at("delta").get<std::string>().empty());
      joined += e.at("delta").get<std::string>();
    }
    const Json done = Json::parse(events.back());
    EXPECT_EQ(done.at("type"), "transcript.text.done");
    EXPECT_EQ(done.at("text"), text);
    EXPECT_EQ(joined, text);
  }
}

TEST(Transcriptions, ConcurrentRequestsEqualTheirSoloResults) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  auto& s = whisper_server();
  const std::vector<std::string> files = {"media/audio/speech_16k_mono.wav", "media/audio/tone_16k_0.5s.wav",
                                          "media/audio/speech_8k_mono.wav", "media/audio/speech_44k1_stereo.wav"};
  const std::vector<std::optional<std::string>> languages = {std::nullopt, "en", "fr", "de"};
  std::vector<Case> cases;
  for (std::size_t i = 0; i < kConcurrent; ++i)
    cases.push_back(
        {files[i % files.size()], languages[(i / 2) % languages.size()], static_cast<std::int64_t>(6 + 3 * i), "", ""});
  {
    HttpClient c(s.port());
    for (auto& k : cases) {
      const auto r = post_form(c, fields_for(fixtures, k));
      ASSERT_EQ(r.status, 200) << r.body;
      k.text = r.json().at("text");
    }
  }
  std::vector<std::future<HttpResult>> answers;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    answers.push_back(std::async(std::launch::async, [&, i] {
      HttpClient c(s.port());
      return post_form(c, fields_for(fixtures, cases[i], "json", i % 2 == 1));
    }));
  }
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const auto r = answers[i].get();
    ASSERT_EQ(r.status, 200) << r.body;
    std::string text;
    if (i % 2 == 1) {
      text = Json::parse(sse_data(r.body).back()).at("text");
    } else {
      text = r.json().at("text");
    }
    EXPECT_EQ(text, cases[i].text) << "request " << i << " (" << cases[i].file << ")";
  }
}

TEST(Transcriptions, BadInputAnswers4xxWithAMessage) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  auto& s = whisper_server();
  HttpClient c(s.port());
  const std::string wav = file_bytes(fixtures / "media" / "audio" / "speech_16k_mono.wav");
  const auto expect_error = [&](const HttpResult& r, int status, const std::string& needle, const std::string& what) {
    EXPECT_EQ(r.status, status) << what << ": " << r.body;
    const Json j = Json::parse(r.body, nullptr, false);
    ASSERT_TRUE(j.is_object() && j.contains("error")) << what << ": " << r.body;
    EXPECT_NE(j.at("error").at("message").get<std::string>().find(needle), std::string::npos) << what << ": " << r.body;
    EXPECT_EQ(j.at("error").at("type"), status == 429 ? "rate_limit_error" : "invalid_request_error") << what;
  };
  expect_error(post_form(c, {{"file", "this is plain text, not audio", "notes.wav"}, {"model", "w"}}), 422, "not audio",
               "not audio");
  expect_error(post_form(c, {{"model", "w"}, {"language", "en"}}), 422, "no `file` field", "no file");
  expect_error(post_form(c, {{"file", "", "empty.wav"}}), 422, "`file` is empty", "empty file");
  expect_error(post_form(c, {{"file", wav, "a.wav"}, {"response_format", "xml"}}), 422, "response_format",
               "unknown format");
  expect_error(post_form(c, {{"file", wav, "a.wav"}, {"response_format", "verbose_json"}}), 422, "not supported",
               "verbose_json");
  expect_error(post_form(c, {{"file", wav, "a.wav"}, {"prompt", "Hello"}}), 422, "`prompt` is not supported", "prompt");
  expect_error(post_form(c, {{"file", wav, "a.wav"}, {"language", "klingon"}}), 422, "klingon", "language");
  expect_error(post_form(c, {{"file", wav, "a.wav"}, {"temperature", "3"}}), 422, "temperature", "temperature");
  expect_error(post_form(c, {{"file", wav, "a.wav"}, {"temperature", "warm"}}), 422, "temperature", "temperature");
  expect_error(post_form(c, {{"file", wav, "a.wav"}, {"stream", "maybe"}}), 422, "stream", "stream");
  expect_error(post_form(c, {{"file", wav, "a.wav"}, {"max_new_tokens", "500"}}), 422, "max_new_tokens",
               "max_new_tokens over the positions");
  expect_error(post_form(c, {{"file", wav, "a.wav"}, {"voice", "x"}}), 422, "unknown field `voice`", "unknown");
  expect_error(post_form(c, {{"file", wav, "a.wav"}, {"file", wav, "b.wav"}}), 422, "more than once", "twice");
  // Malformed multipart bodies.
  const std::string ct = std::string("multipart/form-data; boundary=") + kFormBoundary;
  const std::string good = form_body({{"file", wav, "a.wav"}});
  expect_error(c.request("POST", "/v1/audio/transcriptions", good.substr(0, good.size() - 30), {}, ct), 422,
               "closing boundary", "truncated");
  expect_error(c.request("POST", "/v1/audio/transcriptions", "no boundary anywhere", {}, ct), 422, "no boundary line",
               "no boundary");
  expect_error(c.request("POST", "/v1/audio/transcriptions", good, {}, "multipart/form-data"), 422,
               "no boundary parameter", "no boundary parameter");
  expect_error(c.request("POST", "/v1/audio/transcriptions", R"({"file": "x"})", {}, "application/json"), 422,
               "multipart/form-data", "json body");
  expect_error(c.request("POST", "/v1/audio/transcriptions",
                         std::string("--") + kFormBoundary + "\r\nContent-Type: text/plain\r\n\r\nx\r\n--" +
                             kFormBoundary + "--\r\n",
                         {}, ct),
               422, "no Content-Disposition", "no disposition");
  // Longer than one Whisper window: 413, pointing at the pipeline's chunking.
  expect_error(post_form(c, {{"file", file_bytes(fixtures / "media" / "audio" / "long_35s_16k_mono.wav"), "l.wav"}}),
               413, "at most 30 s", "35 s");
  // Alive and right after all of it.
  const auto cases = reference_cases(fixtures);
  const auto ok = post_form(c, fields_for(fixtures, cases[0]));
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(ok.json().at("text"), cases[0].text);
}

TEST(Transcriptions, TextRoutesOfAWhisperModelPointToTranscriptions) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  auto& s = whisper_server();
  HttpClient c(s.port());
  const auto chat = c.post("/v1/chat/completions", {{"messages", {{{"role", "user"}, {"content", "hi"}}}}});
  EXPECT_EQ(chat.status, 424) << chat.body;
  EXPECT_NE(chat.body.find("/v1/audio/transcriptions"), std::string::npos) << chat.body;
  const auto gen = c.post("/generate", {{"inputs", "hi"}});
  EXPECT_EQ(gen.status, 424) << gen.body;
  EXPECT_NE(gen.body.find("/v1/audio/transcriptions"), std::string::npos) << gen.body;
  const auto models = c.get("/v1/models");
  ASSERT_EQ(models.status, 200);
  EXPECT_EQ(models.json().at("data")[0].at("id"), "whisper-tiny");
}

TEST(Transcriptions, AClientThatLeavesIsCancelled) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  auto& s = whisper_server();
  const double cancelled_before = std::max(0.0, metric(s.metrics_text(), "tgi_request_failure{err=\"cancelled\"}"));
  const std::string wav = file_bytes(fixtures / "media" / "audio" / "speech_16k_mono.wav");
  const std::vector<FormField> fields = {{"file", wav, "a.wav"}, {"stream", "true"}};  // 127 tokens
  // Busy streams (each its own cohort) slow every step, so the leaver cannot finish before its client leaves.
  std::vector<std::unique_ptr<RawStream>> busy;
  for (int i = 0; i < 8; ++i)
    busy.push_back(std::make_unique<RawStream>(s.port(), "/v1/audio/transcriptions",
                                               std::string("multipart/form-data; boundary=") + kFormBoundary,
                                               form_body(fields)));
  RawStream leaver(s.port(), "/v1/audio/transcriptions", std::string("multipart/form-data; boundary=") + kFormBoundary,
                   form_body(fields));
  const std::size_t read = leaver.read_events(2);
  ASSERT_GE(read, 2u);
  ASSERT_LT(read, 100u);
  leaver.close();
  for (auto& b : busy) b->close();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  double size = -1, cancelled = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    const std::string t = s.metrics_text();
    size = metric(t, "tgi_batch_current_size");
    cancelled = metric(t, "tgi_request_failure{err=\"cancelled\"}");
    if (size == 0 && cancelled >= cancelled_before + 1) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(size, 0);
  EXPECT_GE(cancelled, cancelled_before + 1);
  EXPECT_EQ(metric(s.metrics_text(), "tgi_queue_size"), 0);
}

// A token budget of 1600: one row of 1500 encoder positions + 100 new tokens fits, the default 127 never does (422),
// and while one row runs and one waits, more requests are refused (429).
TEST(Transcriptions, TheTokenBudgetAnswers422And429) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  auto o = loopback_options((fixtures / "onnx" / "whisper-tiny").string());
  o.task = "automatic-speech-recognition";
  o.max_batch_tokens = 1600;
  auto server = start_server(o);
  const std::string wav = file_bytes(fixtures / "media" / "audio" / "speech_16k_mono.wav");
  HttpClient c(server->port());
  const auto never = post_form(c, {{"file", wav, "a.wav"}});
  EXPECT_EQ(never.status, 422) << never.body;
  EXPECT_NE(never.body.find("1500 encoder positions"), std::string::npos) << never.body;
  std::vector<std::future<int>> answers;
  for (std::size_t i = 0; i < kOverload; ++i) {
    answers.push_back(std::async(std::launch::async, [&] {
      HttpClient k(server->port());
      return post_form(k, {{"file", wav, "a.wav"}, {"max_new_tokens", "100"}}).status;
    }));
  }
  int ok = 0, overloaded = 0;
  for (auto& a : answers) {
    const int status = a.get();
    EXPECT_TRUE(status == 200 || status == 429) << status;
    ok += status == 200;
    overloaded += status == 429;
  }
  EXPECT_GE(ok, 1);
  EXPECT_GE(overloaded, 1);
  EXPECT_GE(metric(server->metrics_text(), "te_request_failure{err=\"Overloaded\"}"), overloaded);
}

// The scheduler alone on whisper-tiny: while a first row holds the loop, three requests queue and are admitted at one
// step as one cohort (one encoder run: two prefills in all). Two keep the model's forced ids (English
// transcription), one carries French translation's; each row's tokens equal its generate() reference.
TEST(WhisperScheduler, OneCohortRunsEachRowWithItsOwnForcedIds) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const auto dir = fixtures / "onnx" / "whisper-tiny";
  const auto model = models::ORTModelForSpeechSeq2Seq::from_pretrained(dir.string());
  const auto tok = tokenizers::AutoTokenizer::from_pretrained(dir);
  const auto extractor = preprocessing::WhisperFeatureExtractor::from_pretrained(dir);
  const Json& ref = whisper_reference(fixtures);
  server::Metrics metrics;
  server::SchedulerOptions so;
  so.generation_config = generation::GenerationConfig::from_pretrained(dir);
  so.eos_token_id = so.generation_config.eos_token_id;
  so.max_positions = model.max_positions();
  server::GenerationScheduler s(model, tok, so, metrics);

  const auto reference_tokens = [&](const std::string& id, const std::string& input, std::size_t row) {
    for (const auto& g : ref.at("generate")) {
      if (g.at("id") != id || g.at("input") != input) continue;
      const auto seq = g.at("sequences")[row].get<std::vector<std::int64_t>>();
      return std::vector<std::int64_t>(seq.begin() + g.at("prompt_length").get<std::ptrdiff_t>(), seq.end());
    }
    throw std::runtime_error("no generate case " + id);
  };
  const auto make = [&](const std::string& file, std::optional<std::string> language, std::optional<std::string> task) {
    auto r = std::make_shared<server::GenerationRequest>();
    const auto wave = preprocessing::load_audio_mono(fixtures / file, extractor.sampling_rate());
    r->input_features = extractor(wave).at("input_features");
    r->encoder_tokens = static_cast<std::size_t>(model.max_source_positions());
    generation::WhisperGenerateArgs args;
    args.language = std::move(language);
    args.task = std::move(task);
    r->generation_config = std::make_shared<const generation::GenerationConfig>(
        generation::prepare_whisper_generation(so.generation_config, model.config_forced_decoder_ids(), args).config);
    r->params.max_new_tokens = 10;
    return r;
  };
  const Json& batch = ref.at("generate_inputs").at("batch");
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<int> polls{0};
  std::vector<std::promise<server::GenerationResult>> done(4);
  auto blocker = make(batch[0].get<std::string>(), std::nullopt, std::nullopt);
  blocker->cancelled = [&] {
    if (++polls == 2) released.wait();  // the second poll: the blocker's row is running
    return false;
  };
  blocker->on_done = [&](server::GenerationResult r) { done[0].set_value(std::move(r)); };
  s.submit(blocker);
  while (polls.load() < 2) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const std::vector<std::shared_ptr<server::GenerationRequest>> cohort = {
      make(batch[0].get<std::string>(), std::nullopt, std::nullopt),
      make(batch[1].get<std::string>(), std::nullopt, std::nullopt),
      make(batch[0].get<std::string>(), "french", "translate")};
  for (std::size_t i = 0; i < cohort.size(); ++i) {
    cohort[i]->on_done = [&, i](server::GenerationResult r) { done[i + 1].set_value(std::move(r)); };
    s.submit(cohort[i]);
  }
  EXPECT_EQ(s.queue_size(), 3u);
  release.set_value();
  const auto ids_of = [](const server::GenerationResult& r) {
    std::vector<std::int64_t> ids;
    for (const auto& t : r.tokens) ids.push_back(t.id);
    return ids;
  };
  const std::vector<std::vector<std::int64_t>> want = {
      reference_tokens("default", "clip0", 0), reference_tokens("default", "batch", 0),
      reference_tokens("default", "batch", 1), reference_tokens("language_french_translate", "clip0", 0)};
  for (std::size_t i = 0; i < done.size(); ++i) {
    const auto r = done[i].get_future().get();
    EXPECT_EQ(ids_of(r), want[i]) << "row " << i;
    EXPECT_EQ(r.generated_text, tok.decode(ids_of(r), true, false)) << "row " << i;
  }
  // One encoder run for the blocker, one for the cohort of three.
  EXPECT_EQ(metric(metrics.render(), "tgi_batch_inference_duration_count{method=\"prefill\"}"), 2);
  s.stop();
}
