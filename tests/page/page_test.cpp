// The playground page (GET /) and the API docs page (GET /docs) of `ortformers serve`, in headless Chromium: the
// server runs on a fixture model, the page is used as a person would (typing, Ctrl+Enter), and what it shows is
// compared with the server's own routes. Screenshots of every view go to <build>/page/.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <set>

#include "page/browser.hpp"
#include "page/serve.hpp"
#include "support/fixtures.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using ortformers::Json;
using namespace ortformers::testing;

namespace {

constexpr int kCtrl = 2;  // CDP modifier bit

fs::path out_dir() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  const fs::path dir = (ec ? fs::current_path() : exe.parent_path()) / "page";
  fs::create_directories(dir);
  return dir;
}

std::string js_string(const std::string& s) {
  return Json(s).dump();
}

std::string join_lines(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : "\n") + s;
  return out;
}

Json post_json(const ServeProcess& srv, const std::string& path, const Json& body, int* status = nullptr) {
  const HttpResponse r = http_request(srv.port(), "POST", path, body.dump());
  if (status != nullptr) *status = r.status;
  return Json::parse(r.body, nullptr, false);
}

std::string problems_text(const std::vector<std::string>& problems) {
  std::string out;
  for (const auto& p : problems) out += "\n  " + p;
  return out;
}

struct ViewCase;

class PageTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const auto exe = find_chromium();
    if (!exe) return;
    browser_ = std::make_unique<Browser>(*exe, out_dir() / "chromium.log");
  }
  static void TearDownTestSuite() { browser_.reset(); }

  void SetUp() override {
    if (!browser_) {
      if (running_in_ci()) FAIL() << "chromium not found (CI=true): install Debian's chromium (scripts/setup.sh)";
      GTEST_SKIP() << "chromium not found (install Debian's chromium, or set CHROMIUM)";
    }
  }

  // Loads `path` of the server and waits until the page has read /info and built its view.
  static void open(Tab& tab, const ServeProcess& srv, const std::string& path = "/") {
    tab.navigate(srv.url(path));
    ASSERT_TRUE(
        tab.wait_for("document.body.dataset.ready === 'true' || document.getElementById('error')?.textContent", 20s));
    ASSERT_EQ(tab.eval("document.getElementById('error')?.textContent || ''"), "") << "the page shows an error";
  }

  // Runs the current view (Ctrl+Enter in `input_selector`) and waits for its result.
  static void run_view(Tab& tab, const std::string& input_selector, const std::string& view) {
    tab.eval("document.querySelector(" + js_string(input_selector) + ").focus()");
    tab.press("Enter", kCtrl);
    ASSERT_TRUE(tab.wait_for("document.getElementById('results')?.dataset.ready === " + js_string(view) +
                                 " || document.getElementById('error').textContent",
                             60s));
    ASSERT_EQ(tab.eval("document.getElementById('error').textContent"), "");
  }

  static void check_views(const fs::path& fx, const ViewCase* begin, const ViewCase* end);

  static std::unique_ptr<Browser> browser_;
};
std::unique_ptr<Browser> PageTest::browser_;

const std::vector<std::string> kSentences = {"A man is playing a guitar.", "Someone plays an instrument on stage.",
                                             "The cat sleeps on the sofa.", "A kitten is napping on the couch.",
                                             "Stock markets fell sharply today."};

// Enters the sentences, waits for the heatmap and checks every cell against POST /similarity of its row.
void check_heatmap(Tab& tab, const ServeProcess& srv) {
  const std::size_t n = kSentences.size();
  const Json cells = tab.eval(
      "[...document.querySelectorAll('#heatmap td')].map(td => [Number(td.dataset.i), Number(td.dataset.j), "
      "Number(td.dataset.value), td.textContent])");
  ASSERT_EQ(cells.size(), n * n);
  std::vector<std::vector<double>> ref(n);
  for (std::size_t i = 0; i < n; ++i) {
    int status = 0;
    const Json row = post_json(srv, "/similarity",
                               {{"inputs", {{"source_sentence", kSentences[i]}, {"sentences", kSentences}}}}, &status);
    ASSERT_EQ(status, 200) << row.dump();
    ASSERT_EQ(row.size(), n);
    for (const auto& v : row) ref[i].push_back(v.get<double>());
  }
  double max_diff = 0;
  for (const Json& c : cells) {
    const auto i = c[0].get<std::size_t>();
    const auto j = c[1].get<std::size_t>();
    const double shown = c[2].get<double>();
    max_diff = std::max(max_diff, std::abs(shown - ref[i][j]));
    // the cell text is the value rounded to 3 decimals
    EXPECT_NEAR(std::stod(c[3].get<std::string>()), shown, 0.0005 + 1e-9) << "cell " << i << "," << j;
  }
  EXPECT_LT(max_diff, 1e-5) << "heatmap vs /similarity";
  // nearest neighbour of each sentence = the best other sentence of its /similarity row
  const Json nearest =
      tab.eval("[...document.querySelectorAll('#neighbours li')].map(li => Number(li.dataset.nearest))");
  ASSERT_EQ(nearest.size(), n);
  for (std::size_t i = 0; i < n; ++i) {
    std::size_t best = i == 0 ? 1 : 0;
    for (std::size_t j = 0; j < n; ++j)
      if (j != i && ref[i][j] > ref[i][best]) best = j;
    EXPECT_EQ(nearest[i].get<std::size_t>(), best) << "sentence " << i;
  }
  EXPECT_EQ(tab.eval("document.querySelectorAll('#scatter circle').length"), n);
  const Json legend = tab.eval("document.querySelector('.legend')?.textContent || ''");
  EXPECT_NE(legend.get<std::string>().find("cosine"), std::string::npos);
  EXPECT_NE(tab.eval("document.getElementById('stat-latency').textContent").get<std::string>().find("POST /embed"),
            std::string::npos);
}

}  // namespace

TEST_F(PageTest, EmbeddingsHeatmapEqualsSimilarityRoute) {
  ORTFORMERS_REQUIRE_FIXTURES(fx);
  ServeProcess srv(fx / "onnx" / "minilm-tiny-st", {}, out_dir() / "serve-embeddings.log");
  {
    Tab tab(*browser_, 1280, 800);
    open(tab, srv);
    EXPECT_EQ(tab.eval("document.getElementById('view').dataset.view"), "embeddings");
    tab.type("#sentences", join_lines(kSentences));
    run_view(tab, "#sentences", "embeddings");
    check_heatmap(tab, srv);
    tab.screenshot(out_dir() / "playground-embeddings.png");
    const auto problems = tab.console_problems();
    EXPECT_TRUE(problems.empty()) << problems_text(problems);
  }
  {  // phone width: nothing wider than the screen but the heatmap's own scroll box
    Tab phone(*browser_, 390, 844, true);
    open(phone, srv);
    phone.type("#sentences", join_lines(kSentences));
    run_view(phone, "#sentences", "embeddings");
    EXPECT_LE(phone.eval("document.documentElement.scrollWidth").get<int>(),
              phone.eval("window.innerWidth").get<int>());
    phone.screenshot(out_dir() / "playground-embeddings-phone.png");
    const auto problems = phone.console_problems();
    EXPECT_TRUE(problems.empty()) << problems_text(problems);
  }
}

TEST_F(PageTest, ApiErrorIsShownAsMessage) {
  ORTFORMERS_REQUIRE_FIXTURES(fx);
  ServeProcess srv(fx / "onnx" / "minilm-tiny-st", {}, out_dir() / "serve-error.log");
  Tab tab(*browser_, 1280, 800);
  open(tab, srv);
  std::string long_text;
  for (int k = 0; k < 700; ++k) long_text += "word ";
  const std::vector<std::string> inputs = {"A short sentence.", long_text};
  int status = 0;
  const Json expected =
      post_json(srv, "/embed", {{"inputs", inputs}, {"normalize", true}, {"truncate", false}}, &status);
  ASSERT_GE(status, 400) << "an input over the model's length must be refused without truncate";
  ASSERT_TRUE(expected.contains("error")) << expected.dump();
  tab.type("#sentences", join_lines(inputs));
  tab.eval("document.getElementById('run').click()");
  ASSERT_TRUE(tab.wait_for("document.getElementById('error').textContent", 30s));
  const std::string shown = tab.eval("document.getElementById('error').textContent").get<std::string>();
  EXPECT_NE(shown.find(std::to_string(status)), std::string::npos) << shown;
  EXPECT_NE(shown.find(expected["error"].get<std::string>()), std::string::npos) << shown;
  EXPECT_EQ(tab.eval("document.getElementById('run').disabled"), false) << "the page is usable again";
  tab.screenshot(out_dir() / "playground-error.png");
  // the browser itself logs the failed request ("Failed to load resource"); the page adds nothing
  const auto problems = tab.console_problems(/*ignore_network=*/true);
  EXPECT_TRUE(problems.empty()) << problems_text(problems);
}

TEST_F(PageTest, NerHighlightsEqualPipelineEntities) {
  ORTFORMERS_REQUIRE_FIXTURES(fx);
  ServeProcess srv(fx / "onnx" / "bert-tiny-ner", {}, out_dir() / "serve-ner.log");
  Tab tab(*browser_, 1280, 800);
  open(tab, srv);
  EXPECT_EQ(tab.eval("document.getElementById('view').dataset.view"), "entities");
  const std::string text = "John Smith works at Google in New York City. Marie Curie was born in Warsaw.";
  tab.type("#text", text);
  run_view(tab, "#text", "entities");
  int status = 0;
  const Json ref =
      post_json(srv, "/pipeline", {{"inputs", text}, {"parameters", {{"aggregation_strategy", "simple"}}}}, &status);
  ASSERT_EQ(status, 200) << ref.dump();
  ASSERT_FALSE(ref.empty()) << "the fixture model finds entities in this text";
  const Json marks = tab.eval(
      "[...document.querySelectorAll('#entities mark')].map(m => [Number(m.dataset.start), Number(m.dataset.end), "
      "m.dataset.type, Number(m.dataset.score), m.firstChild.textContent])");
  ASSERT_EQ(marks.size(), ref.size()) << marks.dump() << "\n" << ref.dump();
  std::set<std::string> types;
  for (std::size_t k = 0; k < ref.size(); ++k) {
    const Json& e = ref[k];
    EXPECT_EQ(marks[k][0], e["start"]);
    EXPECT_EQ(marks[k][1], e["end"]);
    EXPECT_EQ(marks[k][2], e["entity_group"]);
    EXPECT_NEAR(marks[k][3].get<double>(), e["score"].get<double>(), 1e-9);
    types.insert(e["entity_group"].get<std::string>());
  }
  const Json legend = tab.eval("[...document.querySelectorAll('#legend li')].map(li => li.textContent)");
  EXPECT_EQ(std::set<std::string>(legend.begin(), legend.end()), types);
  tab.screenshot(out_dir() / "playground-ner.png");
  const auto problems = tab.console_problems();
  EXPECT_TRUE(problems.empty()) << problems_text(problems);
}

TEST_F(PageTest, DocsPageRendersEveryServedRoute) {
  ORTFORMERS_REQUIRE_FIXTURES(fx);
  ServeProcess srv(fx / "onnx" / "minilm-tiny-st", {}, out_dir() / "serve-docs.log");
  std::ifstream in(fs::path(ORTFORMERS_SOURCE_DIR) / "web" / "playground" / "openapi.json");
  const Json spec = Json::parse(in);
  std::set<std::string> expected;
  for (const auto& [path, item] : spec["paths"].items())
    for (const auto& [method, op] : item.items()) expected.insert(method + " " + path);
  Tab tab(*browser_, 1280, 900);
  open(tab, srv, "/docs");
  const Json shown =
      tab.eval("[...document.querySelectorAll('section.op')].map(s => s.dataset.method + ' ' + s.dataset.path)");
  EXPECT_EQ(std::set<std::string>(shown.begin(), shown.end()), expected);
  // every documented route is served (a bodiless POST is refused by validation, never 404/405)
  for (const auto& op : expected) {
    const auto space = op.find(' ');
    const std::string method = op.substr(0, space) == "get" ? "GET" : "POST";
    const HttpResponse r = http_request(srv.port(), method, op.substr(space + 1), method == "POST" ? "{}" : "");
    EXPECT_NE(r.status, 0) << op;
    EXPECT_NE(r.status, 404) << op;
    EXPECT_NE(r.status, 405) << op;
  }
  // the pages are sent with a policy that forbids loading anything from elsewhere
  for (const char* page : {"/", "/playground", "/docs"}) {
    const HttpResponse r = http_request(srv.port(), "GET", page);
    EXPECT_EQ(r.status, 200) << page;
    EXPECT_NE(r.head.find("content-type: text/html; charset=utf-8"), std::string::npos) << page;
    EXPECT_NE(r.head.find("content-security-policy: default-src 'none';"), std::string::npos) << page;
  }
  tab.screenshot(out_dir() / "docs.png");
  const auto problems = tab.console_problems();
  EXPECT_TRUE(problems.empty()) << problems_text(problems);
}

namespace {

// One fixture model per view the page has: what to enter, and the route whose answer the page must show.
struct ViewCase {
  const char* model;       // folder under fixtures/onnx
  const char* view;        // the view the page picks from /info
  const char* media;       // file under fixtures/media for image/audio views ("" for text views)
  const char* input_sel;   // text field to fill ("" to keep the page's example)
  const char* input_text;  // what to type there
};

const ViewCase kViewCases[] = {
    {"bert-tiny-seqcls", "classify", "", "#text", "This film was a delight from start to finish."},
    {"bert-tiny-nli", "zero-shot", "", "#labels", "technology, sports, politics"},
    {"bert-tiny-mlm", "fill-mask", "", "#text", "Paris is the [MASK] of France."},
    {"bert-tiny-qa", "qa", "", "#question", "Where does John work?"},
    {"vit-tiny-cls", "image", "images/shapes_37x53.png", "", ""},
    {"segformer-tiny", "image", "images/scene_640x480.jpg", "", ""},
    {"wav2vec2-tiny-audiocls", "audio", "audio/speech_16k_mono.wav", "", ""},
    {"wav2vec2-tiny-ctc", "audio", "audio/speech_16k_mono.wav", "", ""},
};

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// (label, score) pairs the route answered, best first, for the views drawn as score bars.
std::vector<std::pair<std::string, double>> expected_bars(const std::string& view, Json ref) {
  std::vector<std::pair<std::string, double>> out;
  if (ref.is_array() && !ref.empty() && ref[0].is_array()) ref = ref[0];
  if (view == "zero-shot") {
    if (ref.is_array()) ref = ref[0];
    for (std::size_t k = 0; k < ref["labels"].size(); ++k)
      out.emplace_back(ref["labels"][k].get<std::string>(), ref["scores"][k].get<double>());
  } else if (view == "fill-mask") {
    for (const Json& c : ref) out.emplace_back(c["token_str"].get<std::string>(), c["score"].get<double>());
    return out;  // the server's order (already best first)
  } else if (view == "qa") {
    if (!ref.is_array()) ref = Json::array({ref});
    for (const Json& a : ref) out.emplace_back(a["answer"].get<std::string>(), a["score"].get<double>());
    return out;
  } else {
    for (const Json& p : ref) out.emplace_back(p["label"].get<std::string>(), p["score"].get<double>());
  }
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  return out;
}

}  // namespace

// Runs each case's view on its fixture model and checks what the page shows against the route's own answer.
void PageTest::check_views(const fs::path& fx, const ViewCase* begin, const ViewCase* end) {
  for (const ViewCase* it = begin; it != end; ++it) {
    const ViewCase& c = *it;
    SCOPED_TRACE(c.model);
    ServeProcess srv(fx / "onnx" / c.model, {}, out_dir() / (std::string("serve-") + c.model + ".log"));
    Tab tab(*browser_, 1000, 700);
    open(tab, srv);
    ASSERT_EQ(tab.eval("document.getElementById('view').dataset.view"), c.view);
    if (*c.input_sel) tab.type(c.input_sel, c.input_text);
    if (*c.media) tab.set_file("#file", fx / "media" / c.media);
    tab.eval("document.getElementById('run').click()");
    ASSERT_TRUE(
        tab.wait_for("document.getElementById('results').dataset.ready || "
                     "document.getElementById('error').textContent",
                     60s));
    ASSERT_EQ(tab.eval("document.getElementById('error').textContent"), "");
    // the same request, sent by the test
    HttpResponse r;
    const std::string view = c.view;
    if (*c.media) {
      const std::string type = std::string(c.media).rfind("images/", 0) == 0
                                   ? (std::string(c.media).ends_with(".jpg") ? "image/jpeg" : "image/png")
                                   : "audio/wav";
      r = http_request(srv.port(), "POST", "/pipeline", read_file(fx / "media" / c.media), type);
    } else if (view == "classify") {
      r = http_request(srv.port(), "POST", "/predict", Json{{"inputs", c.input_text}}.dump());
    } else if (view == "zero-shot") {
      const Json text = tab.eval("document.getElementById('text').value");
      r = http_request(
          srv.port(), "POST", "/pipeline",
          Json{{"inputs", text},
               {"parameters", {{"candidate_labels", {"technology", "sports", "politics"}}, {"multi_label", false}}}}
              .dump());
    } else if (view == "fill-mask") {
      r = http_request(srv.port(), "POST", "/pipeline",
                       Json{{"inputs", c.input_text}, {"parameters", {{"top_k", 5}}}}.dump());
    } else if (view == "qa") {
      const Json context = tab.eval("document.getElementById('context').value");
      r = http_request(
          srv.port(), "POST", "/pipeline",
          Json{{"inputs", {{"question", c.input_text}, {"context", context}}}, {"parameters", {{"top_k", 3}}}}.dump());
    }
    ASSERT_EQ(r.status, 200) << r.body;
    const Json ref = Json::parse(r.body);
    if (ref.is_object() && ref.contains("text")) {  // speech recognition
      EXPECT_EQ(tab.eval("document.getElementById('transcript').textContent"), ref["text"]);
    } else if (ref.is_array() && !ref.empty() && ref[0].contains("mask")) {  // segmentation
      EXPECT_EQ(tab.eval("Boolean(document.getElementById('mask-overlay'))"), true);
      std::set<std::string> labels;
      for (const Json& s : ref) labels.insert(s["label"].get<std::string>());
      const Json legend = tab.eval("[...document.querySelectorAll('#legend li')].map(li => li.textContent)");
      EXPECT_EQ(std::set<std::string>(legend.begin(), legend.end()), labels);
    } else {
      const auto expected = expected_bars(view, ref);
      const Json bars = tab.eval(
          "[...document.querySelectorAll('#scores li')].map(li => [li.dataset.label, Number(li.dataset.score), "
          "li.classList.contains('winner')])");
      ASSERT_EQ(bars.size(), expected.size()) << bars.dump() << "\n" << ref.dump();
      for (std::size_t k = 0; k < expected.size(); ++k) {
        EXPECT_EQ(bars[k][0], expected[k].first) << k;
        EXPECT_NEAR(bars[k][1].get<double>(), expected[k].second, 1e-9) << k;
        EXPECT_EQ(bars[k][2].get<bool>(), k == 0) << "the winner is marked: " << k;
      }
    }
    tab.screenshot(out_dir() / (std::string("playground-") + c.model + ".png"));
    const auto problems = tab.console_problems();
    EXPECT_TRUE(problems.empty()) << problems_text(problems);
  }
}

TEST_F(PageTest, TextModelTypesGetTheirViews) {
  ORTFORMERS_REQUIRE_FIXTURES(fx);
  check_views(fx, std::begin(kViewCases), std::begin(kViewCases) + 4);
}

TEST_F(PageTest, ImageAndAudioModelTypesGetTheirViews) {
  ORTFORMERS_REQUIRE_FIXTURES(fx);
  check_views(fx, std::begin(kViewCases) + 4, std::end(kViewCases));
}

namespace {

// Non-streamed answer of the route the view streams from, sent by the test.
Json post_ok(const ServeProcess& srv, const std::string& path, const Json& body) {
  int status = 0;
  Json r = post_json(srv, path, body, &status);
  EXPECT_EQ(status, 200) << path << ": " << r.dump();
  return r;
}

}  // namespace

// Generative models: the chat view streams POST /v1/chat/completions and must show, turn after turn, exactly the
// non-streamed chat completion of the same conversation (greedy); the conversation grows with each turn.
TEST_F(PageTest, ChatViewShowsTheChatCompletionTurnByTurn) {
  ORTFORMERS_REQUIRE_FIXTURES(fx);
  const fs::path tmpl = out_dir() / "chatml.jinja";
  {
    std::ifstream in(fx / "chat_templates" / "chatml.json");
    std::ofstream(tmpl) << Json::parse(in).at("template").get<std::string>();
  }
  ServeProcess srv(fx / "onnx" / "llama-tiny", {"--chat-template", tmpl.string()}, out_dir() / "serve-chat.log");
  Tab tab(*browser_, 1280, 900);
  open(tab, srv);
  ASSERT_EQ(tab.eval("document.getElementById('view').dataset.view"), "chat");
  tab.eval("document.getElementById('max-tokens').value = '12'; document.getElementById('temperature').value = '0'");
  Json messages = Json::array();
  for (const std::string turn : {"Hello there, how are you?", "Tell me more."}) {
    SCOPED_TRACE(turn);
    tab.type("#message", turn);
    run_view(tab, "#message", "chat");
    messages.push_back({{"role", "user"}, {"content", turn}});
    const Json ref = post_ok(srv, "/v1/chat/completions",
                             {{"messages", messages}, {"max_tokens", 12}, {"temperature", 0}, {"stream", false}});
    ASSERT_TRUE(ref.contains("choices")) << ref.dump();
    const std::string content = ref["choices"][0]["message"]["content"].get<std::string>();
    EXPECT_EQ(tab.eval("document.getElementById('results').dataset.reply"), content);
    EXPECT_EQ(tab.eval("document.getElementById('results').dataset.finishReason"), ref["choices"][0]["finish_reason"]);
    // the assistant's bubble shows the same text
    EXPECT_EQ(tab.eval("[...document.querySelectorAll('#chat-log .msg[data-role=assistant] .content')].pop()"
                       ".textContent"),
              content);
    messages.push_back({{"role", "assistant"}, {"content", content}});
  }
  EXPECT_EQ(tab.eval("document.querySelectorAll('#chat-log .msg').length"), 4);
  const std::string stats = tab.eval("document.getElementById('stream-stats').textContent").get<std::string>();
  EXPECT_NE(stats.find("prompt tokens"), std::string::npos) << stats;  // stream_options.include_usage
  tab.screenshot(out_dir() / "playground-chat.png");
  const auto problems = tab.console_problems();
  EXPECT_TRUE(problems.empty()) << problems_text(problems);
}

// A decoder without a chat template gets the completion view only: it streams TGI's POST /generate_stream and must
// show the non-streamed /generate answer, token by token; Stop ends a stream at once and leaves the page usable.
TEST_F(PageTest, CompleteViewShowsTheGenerateAnswerAndStops) {
  ORTFORMERS_REQUIRE_FIXTURES(fx);
  ServeProcess srv(fx / "onnx" / "gpt2-tiny", {}, out_dir() / "serve-complete.log");
  Tab tab(*browser_, 1280, 900);
  open(tab, srv);
  ASSERT_EQ(tab.eval("document.getElementById('view').dataset.view"), "complete");
  EXPECT_EQ(tab.eval("document.getElementById('tabs').hidden"), true) << "no chat tab without a chat template";
  const std::string prompt = "Hello, my dog is";
  tab.type("#prompt", prompt);
  tab.eval("document.getElementById('max-new-tokens').value = '20'");
  run_view(tab, "#prompt", "complete");
  const Json ref =
      post_ok(srv, "/generate",
              {{"inputs", prompt}, {"parameters", {{"max_new_tokens", 20}, {"details", true}, {"do_sample", false}}}});
  ASSERT_TRUE(ref.contains("details")) << ref.dump();
  EXPECT_EQ(tab.eval("document.getElementById('results').dataset.generatedText"), ref["generated_text"]);
  EXPECT_EQ(tab.eval("document.getElementById('results').dataset.finishReason"), ref["details"]["finish_reason"]);
  EXPECT_EQ(tab.eval("document.querySelectorAll('#tokens li').length"), ref["details"]["generated_tokens"]);
  const Json ids = tab.eval("[...document.querySelectorAll('#tokens li')].map(li => Number(li.dataset.id))");
  for (std::size_t k = 0; k < ref["details"]["tokens"].size() && k < ids.size(); ++k)
    EXPECT_EQ(ids[k], ref["details"]["tokens"][k]["id"]) << "token " << k;
  tab.screenshot(out_dir() / "playground-complete.png");
  // Stop right after Generate: the stream is closed, the view says so, the buttons are usable again.
  tab.eval(
      "document.getElementById('max-new-tokens').value = '100';"
      "document.getElementById('run').click(); document.getElementById('stop').click()");
  ASSERT_TRUE(
      tab.wait_for("document.getElementById('results').dataset.ready === 'complete' || "
                   "document.getElementById('error').textContent",
                   30s));
  EXPECT_EQ(tab.eval("document.getElementById('error').textContent"), "");
  EXPECT_EQ(tab.eval("document.getElementById('results').dataset.finishReason"), "stopped");
  EXPECT_EQ(tab.eval("document.getElementById('run').disabled"), false);
  EXPECT_EQ(tab.eval("document.getElementById('stop').disabled"), true);
  // the server is still serving
  EXPECT_EQ(http_request(srv.port(), "GET", "/health").status, 200);
  const auto problems = tab.console_problems(/*ignore_network=*/true);
  EXPECT_TRUE(problems.empty()) << problems_text(problems);
}
