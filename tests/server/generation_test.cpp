// `ortformers serve` on generative models (gpt2-tiny, llama-tiny of the fixtures, optimum's model.onnx exports):
// TGI's /generate and /generate_stream and OpenAI's /v1/completions and /v1/chat/completions against transformers
// 4.31's greedy generate() references; streamed chunks concatenate to the whole answer; stop strings; n > 1; seeds;
// concurrent streams of different lengths each equal to their solo result (continuous batching, chunked prefill of 3
// tokens per step); a client that disconnects frees its row (via /metrics); malformed requests answer 4xx with the
// server alive; a stop mid-stream drains.
#include <gtest/gtest.h>

#include <unistd.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <future>
#include <iterator>
#include <set>
#include <thread>

#include "generation_support.hpp"
#include "ortformers/tokenizers/pretrained_tokenizer.hpp"
#include "server_fixture.hpp"
#include "transcription_support.hpp"

using namespace ortformers;
using namespace ortformers::testing;
namespace fs = std::filesystem;

namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr int kStreams = 16;
#else
constexpr int kStreams = 48;
#endif

std::string chatml_template(const fs::path& fixtures) {
  return read_json_file(fixtures / "chat_templates" / "chatml.json").at("template").get<std::string>();
}

server::Server& gen_server(const std::string& model) {
  return shared_server("gen-" + model, [model] {
    auto fixtures = find_fixtures_dir();
    auto o = loopback_options((*fixtures / "onnx" / model).string());
    o.chat_template = chatml_template(*fixtures);
    o.served_model_name = model;
    // Chunked prefill with a small chunk: prompts that arrive while rows run are prefilled 3 tokens per step, bursts
    // included (--waiting-served-ratio 0).
    o.max_batch_prefill_tokens = 3;
    o.waiting_served_ratio = 0;
    return o;
  });
}

const Json& reference(const fs::path& fixtures, const std::string& name) {
  static std::map<std::string, Json> cache;
  auto it = cache.find(name);
  if (it == cache.end()) it = cache.emplace(name, read_json_file(fixtures / "reference" / (name + ".json"))).first;
  return it->second;
}

const Json& generate_case(const Json& ref, const std::string& id, const std::string& input) {
  for (const auto& g : ref.at("generate"))
    if (g.at("id") == id && g.at("input") == input) return g;
  throw std::runtime_error("no generate case " + id);
}

double metric(const std::string& text, const std::string& name) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(name + " ", 0) == 0) return std::stod(line.substr(name.size() + 1));
  }
  return -1;
}

class Generative : public ::testing::TestWithParam<const char*> {};

}  // namespace

TEST_P(Generative, GenerateGreedyEqualsTheReference) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const std::string model = GetParam();
  auto& s = gen_server(model);
  const Json& ref = reference(fixtures, model);
  const auto prompts = ref.at("tokenization");
  const auto tok = tokenizers::AutoTokenizer::from_pretrained(fixtures / "onnx" / model);
  HttpClient c(s.port());
  // input0 alone, then the three prompts of the batch case at once (continuous batching): each its reference.
  const Json& single = generate_case(ref, "greedy", "input0");
  const auto r = c.post(
      "/generate", {{"inputs", prompts[0].at("text")}, {"parameters", {{"max_new_tokens", 10}, {"details", true}}}});
  ASSERT_EQ(r.status, 200) << r.body;
  const Json out = r.json();
  const auto seq = single.at("sequences")[0].get<std::vector<std::int64_t>>();
  const std::size_t plen = single.at("prompt_length").get<std::size_t>();
  const std::vector<std::int64_t> expected(seq.begin() + static_cast<std::ptrdiff_t>(plen), seq.end());
  EXPECT_EQ(token_ids(out.at("details")), expected);
  EXPECT_EQ(out.at("generated_text"), tok.decode(expected, true, false));
  EXPECT_EQ(out.at("details").at("finish_reason"), "length");
  EXPECT_EQ(out.at("details").at("generated_tokens"), 10);
  EXPECT_TRUE(out.at("details").at("seed").is_null());
  for (const auto& t : out.at("details").at("tokens")) EXPECT_LE(t.at("logprob").get<double>(), 0.0);

  const Json& batch = generate_case(ref, "greedy", "batch");
  std::vector<std::future<HttpResult>> answers;
  for (std::size_t i = 0; i < prompts.size(); ++i) {
    answers.push_back(std::async(std::launch::async, [&, i] {
      HttpClient ci(s.port());
      return ci.post("/generate",
                     {{"inputs", prompts[i].at("text")}, {"parameters", {{"max_new_tokens", 10}, {"details", true}}}});
    }));
  }
  for (std::size_t i = 0; i < answers.size(); ++i) {
    const HttpResult a = answers[i].get();
    ASSERT_EQ(a.status, 200) << a.body;
    // The batch reference is left-padded: the new tokens are the last 10 of each row.
    const auto row = batch.at("sequences")[i].get<std::vector<std::int64_t>>();
    const std::vector<std::int64_t> want(row.end() - 10, row.end());
    EXPECT_EQ(token_ids(a.json().at("details")), want) << "prompt " << i;
  }
}

TEST_P(Generative, StreamsConcatenateToTheAnswerAndCompletionsAgree) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  auto& s = gen_server(GetParam());
  HttpClient c(s.port());
  const std::string prompt = "Once upon a time, in a faraway land, there lived a";
  const auto whole =
      c.post("/generate", {{"inputs", prompt}, {"parameters", {{"max_new_tokens", 24}, {"details", true}}}});
  ASSERT_EQ(whole.status, 200) << whole.body;
  const std::string text = whole.json().at("generated_text");

  const auto streamed = c.post("/generate_stream", {{"inputs", prompt}, {"parameters", {{"max_new_tokens", 24}}}});
  ASSERT_EQ(streamed.status, 200) << streamed.body;
  EXPECT_EQ(streamed.headers.at("Content-Type"), "text/event-stream");
  const auto events = sse_data(streamed.body);
  ASSERT_EQ(events.size(), 24u);
  std::string concat;
  for (std::size_t i = 0; i < events.size(); ++i) {
    const Json e = Json::parse(events[i]);
    EXPECT_EQ(e.at("index"), i + 1);
    if (!e.at("token").at("special").get<bool>()) concat += e.at("token").at("text").get<std::string>();
    if (i + 1 < events.size()) {
      EXPECT_TRUE(e.at("generated_text").is_null());
    } else {
      EXPECT_EQ(e.at("generated_text"), text);
      EXPECT_EQ(e.at("details").at("finish_reason"), "length");
      EXPECT_EQ(e.at("details").at("generated_tokens"), 24);
    }
  }
  EXPECT_EQ(concat, text);

  // OpenAI completions, greedy (temperature 0): the same text, whole and streamed.
  const auto comp =
      c.post("/v1/completions", {{"model", GetParam()}, {"prompt", prompt}, {"max_tokens", 24}, {"temperature", 0}});
  ASSERT_EQ(comp.status, 200) << comp.body;
  const Json cj = comp.json();
  EXPECT_EQ(cj.at("object"), "text_completion");
  EXPECT_EQ(cj.at("choices")[0].at("text"), text);
  EXPECT_EQ(cj.at("choices")[0].at("finish_reason"), "length");
  EXPECT_EQ(cj.at("usage").at("completion_tokens"), 24);
  EXPECT_EQ(cj.at("usage").at("total_tokens"), cj.at("usage").at("prompt_tokens").get<int>() + 24);
  const auto cs = c.post("/v1/completions", {{"prompt", prompt},
                                             {"max_tokens", 24},
                                             {"temperature", 0},
                                             {"stream", true},
                                             {"stream_options", {{"include_usage", true}}}});
  ASSERT_EQ(cs.status, 200) << cs.body;
  const auto chunks = sse_data(cs.body);
  ASSERT_GE(chunks.size(), 3u);
  EXPECT_EQ(chunks.back(), "[DONE]");
  std::string sc;
  std::string finish;
  for (std::size_t i = 0; i + 1 < chunks.size(); ++i) {
    const Json j = Json::parse(chunks[i]);
    if (j.at("choices").empty()) {
      EXPECT_EQ(j.at("usage").at("completion_tokens"), 24);  // the usage chunk, last before [DONE]
      EXPECT_EQ(i + 2, chunks.size());
      continue;
    }
    sc += j.at("choices")[0].at("text").get<std::string>();
    if (!j.at("choices")[0].at("finish_reason").is_null()) finish = j.at("choices")[0].at("finish_reason");
  }
  EXPECT_EQ(sc, text);
  EXPECT_EQ(finish, "length");
  // echo and logprobs
  const auto echo = c.post(
      "/v1/completions", {{"prompt", prompt}, {"max_tokens", 5}, {"temperature", 0}, {"echo", true}, {"logprobs", 2}});
  ASSERT_EQ(echo.status, 200) << echo.body;
  const Json ej = echo.json().at("choices")[0];
  EXPECT_EQ(ej.at("text").get<std::string>().rfind(prompt, 0), 0u);
  EXPECT_EQ(ej.at("logprobs").at("token_logprobs").size(), 5u);
  EXPECT_EQ(ej.at("logprobs").at("top_logprobs")[0].size(), 2u);
}

TEST_P(Generative, StopStringsEndTheTextAsEachApiDefines) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  auto& s = gen_server(GetParam());
  HttpClient c(s.port());
  const std::string prompt = "Hello, my dog is cute and";
  const auto whole =
      c.post("/generate", {{"inputs", prompt}, {"parameters", {{"max_new_tokens", 10}, {"details", true}}}});
  ASSERT_EQ(whole.status, 200);
  const Json details = whole.json().at("details");
  // A stop string: the text of the 4th and 5th tokens (non-empty by construction of the choice below).
  std::string upto, stop;
  for (std::size_t i = 0; i < details.at("tokens").size(); ++i) {
    const std::string t = details.at("tokens")[i].at("text");
    if (i >= 3 && stop.size() < 2 && !t.empty()) {
      stop += t;
      if (stop.size() >= 2) break;
      continue;
    }
    if (stop.empty()) upto += t;
  }
  ASSERT_GE(stop.size(), 2u);
  const std::string full = whole.json().at("generated_text");
  const std::size_t at = full.find(stop);
  ASSERT_NE(at, std::string::npos);
  // TGI: the text up to and including the token that completed the stop sequence.
  const auto tgi = c.post(
      "/generate", {{"inputs", prompt}, {"parameters", {{"max_new_tokens", 10}, {"stop", {stop}}, {"details", true}}}});
  ASSERT_EQ(tgi.status, 200) << tgi.body;
  EXPECT_EQ(tgi.json().at("details").at("finish_reason"), "stop_sequence");
  const std::string tgi_text = tgi.json().at("generated_text");
  EXPECT_EQ(tgi_text.find(stop), at);
  EXPECT_EQ(full.rfind(tgi_text, 0), 0u);
  // OpenAI: the text before the stop sequence, whole and streamed.
  const auto oa =
      c.post("/v1/completions", {{"prompt", prompt}, {"max_tokens", 10}, {"temperature", 0}, {"stop", stop}});
  ASSERT_EQ(oa.status, 200) << oa.body;
  EXPECT_EQ(oa.json().at("choices")[0].at("text"), full.substr(0, at));
  EXPECT_EQ(oa.json().at("choices")[0].at("finish_reason"), "stop");
  const auto os =
      c.post("/v1/completions",
             {{"prompt", prompt}, {"max_tokens", 10}, {"temperature", 0}, {"stop", {stop, "zzzz"}}, {"stream", true}});
  std::string sc;
  for (const auto& d : sse_data(os.body))
    if (d != "[DONE]") sc += Json::parse(d).at("choices")[0].at("text").get<std::string>();
  EXPECT_EQ(sc, full.substr(0, at));
}

TEST_P(Generative, SeedsReproduceAndNGivesChoices) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  auto& s = gen_server(GetParam());
  HttpClient c(s.port());
  const Json body = {
      {"inputs", "The capital of France is"},
      {"parameters", {{"max_new_tokens", 12}, {"do_sample", true}, {"seed", 1234}, {"top_k", 100}, {"details", true}}}};
  const auto a = c.post("/generate", body), b = c.post("/generate", body);
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(a.json().at("generated_text"), b.json().at("generated_text"));
  EXPECT_EQ(a.json().at("details").at("seed"), 1234);
  const Json comp = {
      {"prompt", "The capital of France is"}, {"max_tokens", 12}, {"n", 3}, {"seed", 99}, {"temperature", 1.0}};
  const auto x = c.post("/v1/completions", comp), y = c.post("/v1/completions", comp);
  ASSERT_EQ(x.status, 200) << x.body;
  ASSERT_EQ(x.json().at("choices").size(), 3u);
  std::set<std::string> distinct;
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(x.json().at("choices")[i].at("index"), i);
    EXPECT_EQ(x.json().at("choices")[i].at("text"), y.json().at("choices")[i].at("text"));
    distinct.insert(x.json().at("choices")[i].at("text").get<std::string>());
  }
  EXPECT_GT(distinct.size(), 1u);  // each choice its own seed
  EXPECT_EQ(x.json().at("usage").at("completion_tokens"), 36);
  // A list of prompts x n.
  const auto lp = c.post("/v1/completions",
                         {{"prompt", {"Hello", "The capital"}}, {"max_tokens", 3}, {"n", 2}, {"temperature", 0}});
  ASSERT_EQ(lp.status, 200) << lp.body;
  ASSERT_EQ(lp.json().at("choices").size(), 4u);
  EXPECT_EQ(lp.json().at("choices")[0].at("text"), lp.json().at("choices")[1].at("text"));  // greedy: n identical
}

TEST_P(Generative, ChatCompletionsRenderTheTemplate) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const std::string model = GetParam();
  auto& s = gen_server(model);
  HttpClient c(s.port());
  const Json messages = Json::array(
      {{{"role", "system"}, {"content", "You are terse."}}, {{"role", "user"}, {"content", "Name a colour."}}});
  const auto r = c.post("/v1/chat/completions", {{"model", model},
                                                 {"messages", messages},
                                                 {"max_tokens", 8},
                                                 {"temperature", 0},
                                                 {"logprobs", true},
                                                 {"top_logprobs", 2}});
  ASSERT_EQ(r.status, 200) << r.body;
  const Json j = r.json();
  EXPECT_EQ(j.at("object"), "chat.completion");
  EXPECT_EQ(j.at("model"), model);
  EXPECT_EQ(j.at("choices")[0].at("message").at("role"), "assistant");
  EXPECT_EQ(j.at("choices")[0].at("logprobs").at("content").size(), 8u);
  EXPECT_EQ(j.at("choices")[0].at("logprobs").at("content")[0].at("top_logprobs").size(), 2u);
  // The same as the rendered prompt's token ids through /v1/completions (no special tokens added: the template has
  // them).
  const std::string rendered =
      "<|im_start|>system\nYou are terse.<|im_end|>\n<|im_start|>user\nName a "
      "colour.<|im_end|>\n<|im_start|>assistant\n";
  const auto tok = tokenizers::AutoTokenizer::from_pretrained(fixtures / "onnx" / model);
  tokenizers::TokenizeOptions no_special;
  no_special.add_special_tokens = false;
  const auto ids = tok.encode(rendered, no_special).ids;
  const auto comp = c.post("/v1/completions", {{"prompt", ids}, {"max_tokens", 8}, {"temperature", 0}});
  ASSERT_EQ(comp.status, 200) << comp.body;
  EXPECT_EQ(j.at("choices")[0].at("message").at("content"), comp.json().at("choices")[0].at("text"));
  EXPECT_EQ(j.at("usage").at("prompt_tokens"), ids.size());
  // Streamed: role first, then content deltas that concatenate to the message, finish_reason, usage, [DONE].
  const auto st = c.post("/v1/chat/completions", {{"messages", messages},
                                                  {"max_completion_tokens", 8},
                                                  {"temperature", 0},
                                                  {"stream", true},
                                                  {"stream_options", {{"include_usage", true}}}});
  ASSERT_EQ(st.status, 200) << st.body;
  const auto chunks = sse_data(st.body);
  ASSERT_GE(chunks.size(), 3u);
  EXPECT_EQ(chunks.back(), "[DONE]");
  std::string content;
  bool role_first = false, finished = false, usage = false;
  for (std::size_t i = 0; i + 1 < chunks.size(); ++i) {
    const Json k = Json::parse(chunks[i]);
    EXPECT_EQ(k.at("object"), "chat.completion.chunk");
    if (k.at("choices").empty()) {
      usage = k.at("usage").at("completion_tokens") == 8;
      continue;
    }
    const Json& d = k.at("choices")[0].at("delta");
    if (i == 0) role_first = d.value("role", "") == "assistant";
    if (d.contains("content")) content += d.at("content").get<std::string>();
    if (!k.at("choices")[0].at("finish_reason").is_null())
      finished = k.at("choices")[0].at("finish_reason") == "length";
  }
  EXPECT_TRUE(role_first);
  EXPECT_TRUE(finished);
  EXPECT_TRUE(usage);
  EXPECT_EQ(content, j.at("choices")[0].at("message").at("content"));
}

TEST_P(Generative, ConcurrentStreamsEachEqualTheirSoloResult) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  auto& s = gen_server(GetParam());
  const std::vector<std::string> prompts = {"Hello, my dog is cute and", "The capital of France is",
                                            "Once upon a time, in a faraway land, there lived a", "I", "A B C D E F"};
  auto body = [&](int i) {
    return Json{{"inputs", prompts[static_cast<std::size_t>(i) % prompts.size()]},
                {"parameters", {{"max_new_tokens", 4 + (i * 7) % 29}}}};
  };
  std::vector<std::string> solo(static_cast<std::size_t>(kStreams));
  {
    HttpClient c(s.port());
    for (int i = 0; i < kStreams; ++i) {
      const auto r = c.post("/generate", body(i));
      ASSERT_EQ(r.status, 200) << r.body;
      solo[static_cast<std::size_t>(i)] = r.json().at("generated_text");
    }
  }
  const auto prefill_runs = [&] {
    return metric(s.metrics_text(), "tgi_batch_inference_duration_count{method=\"prefill\"}");
  };
  const double runs_before = prefill_runs();
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
  // Alone, each prompt was prefilled in one run; here, with rows running, most prompts (up to 12 tokens) took several.
  EXPECT_GT(prefill_runs() - runs_before, kStreams);
}

TEST_P(Generative, MalformedRequestsAnswer4xxAndTheServerLives) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  auto& s = gen_server(GetParam());
  HttpClient c(s.port());
  struct Bad {
    const char* path;
    std::string body;
    int status;
  };
  const std::string huge(400, 'x');
  const std::vector<Bad> cases = {
      {"/generate", "{", 422},
      {"/generate", "[]", 422},
      {"/generate", R"({"inputs": 5})", 422},
      {"/generate", R"({"inputs": ""})", 400},
      {"/generate", R"({"inputs": "hi", "parameters": {"max_new_tokens": "ten"}})", 422},
      {"/generate", R"({"inputs": "hi", "parameters": {"max_new_tokens": 0}})", 422},
      {"/generate", R"({"inputs": "hi", "parameters": {"max_new_tokens": 100000}})", 422},
      {"/generate", R"({"inputs": "hi", "parameters": {"temperature": 0}})", 422},
      {"/generate", R"({"inputs": "hi", "parameters": {"top_p": 1.5}})", 422},
      {"/generate", R"({"inputs": "hi", "parameters": {"unknown": 1}})", 422},
      {"/generate", R"({"inputs": "hi", "parameters": {"decoder_input_details": true}})", 422},
      {"/generate", R"({"inputs": "hi", "parameters": {"stop": ["a","b","c","d","e"]}})", 422},
      {"/generate", "{\"inputs\": \"\xff\xfe\"}", 422},
      {"/generate",
       "{\"inputs\": \"" +
           [&] {
             std::string t;
             for (int i = 0; i < 400; ++i) t += " hello";
             return t;
           }() +
           "\"}",
       413},
      {"/generate_stream", R"({"inputs": "hi", "parameters": {"seed": "x"}})", 422},
      {"/v1/completions", R"({"prompt": "hi", "max_tokens": 1000000})", 422},
      {"/v1/completions", R"({"prompt": "hi", "n": 0})", 422},
      {"/v1/completions", R"({"prompt": "hi", "temperature": -1})", 422},
      {"/v1/completions", R"({"prompt": "hi", "frobnicate": true})", 422},
      {"/v1/completions", R"({"prompt": [999999999]})", 422},
      {"/v1/completions", R"({"max_tokens": 3})", 422},
      {"/v1/chat/completions", R"({"messages": []})", 422},
      {"/v1/chat/completions", R"({"messages": "hi"})", 422},
      {"/v1/chat/completions", R"({"messages": [{"role": "wizard", "content": "hi"}]})", 422},
      {"/v1/chat/completions", R"({"messages": [{"content": "hi"}]})", 422},
      {"/v1/chat/completions", R"({"messages": [{"role": "user", "content": 5}]})", 422},
      {"/v1/chat/completions", R"({"messages": [{"role": "user", "content": [{"type": "image_url"}]}]})", 422},
      {"/v1/chat/completions",
       R"({"messages": [{"role": "user", "content": "hi"}], "response_format": {"type": "json_object"}})", 422},
      {"/v1/chat/completions", R"({"messages": [{"role": "user", "content": "hi"}], "tools": [{"type": "function"}]})",
       422},
      {"/v1/chat/completions", R"({"messages": [{"role": "user", "content": "hi"}], "top_logprobs": 2})", 422},
      {"/v1/chat/completions",
       R"({"messages": [{"role": "user", "content": "hi"}], "stream_options": {"include_usage": true}})", 422},
      {"/v1/chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": \"\xc3\x28\"}]}", 422},
  };
  for (const auto& b : cases) {
    const auto r = c.request("POST", b.path, b.body);
    EXPECT_EQ(r.status, b.status) << b.path << " " << b.body.substr(0, 120) << " -> " << r.body;
    const Json j = Json::parse(r.body, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << r.body;
    if (std::string(b.path).rfind("/v1/", 0) == 0) {
      EXPECT_TRUE(j.contains("error") && j.at("error").contains("message")) << r.body;  // OpenAI's shape
    } else {
      EXPECT_TRUE(j.contains("error") && j.at("error").is_string() && j.contains("error_type")) << r.body;  // TGI's
    }
  }
  EXPECT_EQ(c.get("/health").status, 200);
  EXPECT_EQ(c.post("/generate", {{"inputs", "hi"}, {"parameters", {{"max_new_tokens", 2}}}}).status, 200);
}

TEST_P(Generative, ModelsInfoAndMetrics) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const std::string model = GetParam();
  auto& s = gen_server(model);
  HttpClient c(s.port());
  const auto m = c.get("/v1/models");
  ASSERT_EQ(m.status, 200);
  EXPECT_EQ(m.json().at("data")[0].at("id"), model);
  const Json info = c.get("/info").json();
  EXPECT_EQ(info.at("model_pipeline_tag"), "text-generation");
  EXPECT_EQ(info.at("max_total_tokens"), model == "gpt2-tiny" ? 128 : 256);
  EXPECT_EQ(info.at("is_encoder_decoder"), false);
  EXPECT_EQ(info.at("chat_template"), true);  // --chat-template given
  c.post("/generate", {{"inputs", "hi"}, {"parameters", {{"max_new_tokens", 2}}}});
  const std::string text = c.get("/metrics").body;
  for (const char* name :
       {"tgi_queue_size", "tgi_batch_current_size", "tgi_request_generated_tokens_count",
        "tgi_batch_inference_duration_count{method=\"decode\"}", "tgi_request_first_token_duration_count",
        "tgi_request_mean_time_per_token_duration_count"}) {
    EXPECT_NE(text.find(name), std::string::npos) << name;
  }
}

INSTANTIATE_TEST_SUITE_P(Models, Generative, ::testing::Values("gpt2-tiny", "llama-tiny"));

TEST(GenerativeServer, ADisconnectedStreamFreesItsRow) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  auto& s = gen_server("llama-tiny");
  const double cancelled_before = [&] {
    const std::string t = s.metrics_text();
    return std::max(0.0, metric(t, "tgi_request_failure{err=\"cancelled\"}"));
  }();
  // Long streams keep the batch busy so the disconnected one cannot finish before its client leaves.
  std::vector<std::unique_ptr<RawStream>> busy;
  for (int i = 0; i < 8; ++i) {
    busy.push_back(std::make_unique<RawStream>(
        s.port(), "/generate_stream", Json{{"inputs", "Once upon a time"}, {"parameters", {{"max_new_tokens", 240}}}}));
  }
  RawStream leaver(s.port(), "/generate_stream", Json{{"inputs", "Hello"}, {"parameters", {{"max_new_tokens", 240}}}});
  // One read may bring more than three events; the stream must still be far from its 240 tokens.
  const std::size_t read = leaver.read_events(3);
  ASSERT_GE(read, 3u);
  ASSERT_LT(read, 240u);
  leaver.close();
  for (auto& b : busy) b->close();
  // Every row leaves within a step of its client: the batch empties long before 240 tokens x 9 rows are done.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  double size = -1, cancelled = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    const std::string t = HttpClient(s.port()).get("/metrics").body;
    size = metric(t, "tgi_batch_current_size");
    cancelled = metric(t, "tgi_request_failure{err=\"cancelled\"}");
    if (size == 0 && cancelled >= cancelled_before + 9) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(size, 0);
  EXPECT_GE(cancelled, cancelled_before + 9);
  EXPECT_EQ(metric(s.metrics_text(), "tgi_queue_size"), 0);
}

TEST(GenerativeServer, StopMidStreamDrains) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  auto o = loopback_options((fixtures / "onnx" / "gpt2-tiny").string());
  auto server = start_server(o);
  std::vector<std::future<std::string>> streams;
  for (int i = 0; i < 4; ++i) {
    streams.push_back(std::async(std::launch::async, [&] {
      HttpClient c(server->port());
      return c.post("/generate_stream", {{"inputs", "Hello"}, {"parameters", {{"max_new_tokens", 100}}}}).body;
    }));
  }
  RawStream watcher(server->port(), "/generate_stream",
                    Json{{"inputs", "Hi"}, {"parameters", {{"max_new_tokens", 100}}}});
  ASSERT_GE(watcher.read_events(1), 1u);
  EXPECT_TRUE(server->stop());  // drains: every stream in flight is answered
  for (auto& f : streams) {
    const auto events = sse_data(f.get());
    ASSERT_FALSE(events.empty());
    const Json last = Json::parse(events.back());
    // Finished (details) or ended with a final error event: never cut silently.
    EXPECT_TRUE(last.contains("error") || (last.contains("details") && !last.at("details").is_null())) << events.back();
  }
}

// A real client no one here wrote: the official OpenAI Node SDK (pinned in tests/server_deploy/openai-client, installed
// there by scripts/setup.sh; ORTFORMERS_OPENAI_SDK_DIR overrides) on chat completions, streamed and not, on
// completions, and on audio transcriptions (whisper-tiny).
TEST(GenerativeServer, OpenAiNodeSdkChatAndCompletions) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const char* env_sdk = std::getenv("ORTFORMERS_OPENAI_SDK_DIR");
  const fs::path source = ORTFORMERS_SOURCE_DIR;
  const fs::path sdk =
      env_sdk ? fs::path(env_sdk) : source / "tests" / "server_deploy" / "openai-client" / "node_modules" / "openai";
  std::string node;
  if (const char* path = std::getenv("PATH")) {
    std::istringstream dirs(path);
    std::string d;
    while (node.empty() && std::getline(dirs, d, ':'))
      if (!d.empty() && ::access((fs::path(d) / "node").c_str(), X_OK) == 0) node = (fs::path(d) / "node").string();
  }
  if (node.empty() || !fs::exists(sdk / "index.mjs")) {
    const std::string why = node.empty() ? "node not found" : "the openai SDK is not installed at " + sdk.string();
    if (running_in_ci()) FAIL() << why << " (CI=true)";
    GTEST_SKIP() << why;
  }
  auto& s = gen_server("gpt2-tiny");
  const fs::path err = make_temp_dir("openai-gen") / "node.err";
  const std::string cmd = "timeout 60 '" + node + "' '" +
                          (source / "tests" / "server" / "openai-client" / "generation.mjs").string() + "' '" +
                          sdk.string() + "' http://127.0.0.1:" + std::to_string(s.port()) + "/v1 gpt2-tiny 2>'" +
                          err.string() + "'";
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  const int rc = ::pclose(p);
  std::ifstream errs(err);
  const std::string err_text((std::istreambuf_iterator<char>(errs)), std::istreambuf_iterator<char>());
  ASSERT_EQ(rc, 0) << err_text;
  const Json j = Json::parse(out, nullptr, false);
  ASSERT_TRUE(j.is_object()) << out << err_text;
  // What the SDK got equals what the routes answer over plain HTTP.
  HttpClient c(s.port());
  const Json messages = Json::array(
      {{{"role", "system"}, {"content", "You are terse."}}, {{"role", "user"}, {"content", "Name a colour."}}});
  const auto chat = c.post("/v1/chat/completions", {{"messages", messages}, {"max_tokens", 8}, {"temperature", 0}});
  const auto gen =
      c.post("/generate", {{"inputs", "Hello, my dog is cute and"}, {"parameters", {{"max_new_tokens", 10}}}});
  ASSERT_EQ(chat.status, 200);
  ASSERT_EQ(gen.status, 200);
  EXPECT_EQ(j.at("chat"), chat.json().at("choices")[0].at("message").at("content"));
  EXPECT_EQ(j.at("chat_role"), "assistant");
  EXPECT_EQ(j.at("chat_finish"), "length");
  EXPECT_EQ(j.at("chat_usage").at("completion_tokens"), 8);
  EXPECT_EQ(j.at("streamed"), j.at("chat"));
  EXPECT_EQ(j.at("stream_role"), "assistant");
  EXPECT_EQ(j.at("stream_finish"), "length");
  EXPECT_EQ(j.at("stream_usage").at("completion_tokens"), 8);
  EXPECT_EQ(j.at("completion"), gen.json().at("generated_text"));
  EXPECT_EQ(j.at("completion_streamed"), j.at("completion"));
  EXPECT_EQ(j.at("completion_finish"), "length");
  EXPECT_EQ(j.at("error").at("status"), 422);
  EXPECT_NE(j.at("error").at("message").get<std::string>().find("wizard"), std::string::npos);

  // audio.transcriptions on whisper-tiny (multipart upload; json, text and streamed), equal to plain HTTP's answers.
  auto& w = whisper_server();
  const fs::path wav = fixtures / "media" / "audio" / "speech_16k_mono.wav";
  const std::string wcmd = "timeout 60 '" + node + "' '" +
                           (source / "tests" / "server" / "openai-client" / "transcription.mjs").string() + "' '" +
                           sdk.string() + "' http://127.0.0.1:" + std::to_string(w.port()) + "/v1 whisper-tiny '" +
                           wav.string() + "' 2>'" + err.string() + "'";
  std::string wout;
  FILE* wp = ::popen(wcmd.c_str(), "r");
  ASSERT_NE(wp, nullptr);
  while (std::size_t n = std::fread(buf, 1, sizeof buf, wp)) wout.append(buf, n);
  const int wrc = ::pclose(wp);
  std::ifstream werrs(err);
  const std::string werr_text((std::istreambuf_iterator<char>(werrs)), std::istreambuf_iterator<char>());
  ASSERT_EQ(wrc, 0) << werr_text;
  const Json t = Json::parse(wout, nullptr, false);
  ASSERT_TRUE(t.is_object()) << wout << werr_text;
  HttpClient wc(w.port());
  const std::string audio = file_bytes(wav);
  const auto english = post_form(wc, {{"file", audio, "speech.wav"}, {"model", "whisper-tiny"}, {"language", "en"}});
  const auto plain = post_form(wc, {{"file", audio, "speech.wav"}, {"model", "whisper-tiny"}});
  ASSERT_EQ(english.status, 200) << english.body;
  ASSERT_EQ(plain.status, 200) << plain.body;
  EXPECT_EQ(t.at("json"), english.json().at("text"));
  EXPECT_EQ(t.at("text"), plain.json().at("text"));
  EXPECT_EQ(t.at("streamed"), plain.json().at("text"));
  EXPECT_EQ(t.at("done"), plain.json().at("text"));
  EXPECT_EQ(t.at("types"), Json::array({"transcript.text.delta", "transcript.text.done"}));
  EXPECT_EQ(t.at("error").at("status"), 422);
  EXPECT_NE(t.at("error").at("message").get<std::string>().find("not supported"), std::string::npos);
}
