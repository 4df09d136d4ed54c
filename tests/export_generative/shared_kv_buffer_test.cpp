// The shared past/present KV buffer (CausalLMOptions::past_present_share_buffer, onnxruntime-genai's
// past_present_share_buffer) on models/llama-tiny exported with --optimize: the export declares it in its metadata,
// and a DecoderStep binding one max-length buffer as past and present (GroupQueryAttention appending in place) gives
// the same tokens and logits (within 1e-4) as the copying path (two buffers, present = past + new): generate() greedy
// on a left-padded batch, sampling with a seed, beam search (select_rows); step by step while the buffer outgrows
// its reserve() (regrown with a copy); rows joining (append_rows), leaving (select_rows) and trimmed (trim_past) as
// the server's scheduler does. A graph without GroupQueryAttention forced to share fails with a clear error.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <mutex>
#include <optional>

#include "ortformers/core/error.hpp"
#include "ortformers/core/json.hpp"
#include "ortformers/export/export.hpp"
#include "ortformers/generation/generate.hpp"
#include "ortformers/models/causal_lm.hpp"
#include "support/fixtures.hpp"
#include "support/join_rows.hpp"

using namespace ortformers;
using namespace ortformers::models;
namespace fs = std::filesystem;

namespace {

constexpr double kTol = 1e-4;

// models/llama-tiny exported once per form (--optimize or plain) into a temp folder removed at exit.
struct Exports {
  fs::path root;
  std::map<bool, fs::path> dirs;
  std::mutex m;
  ~Exports() {
    std::error_code ec;
    if (!root.empty()) fs::remove_all(root, ec);
  }
};

fs::path llama_tiny(const fs::path& fixtures, bool optimize) {
  static Exports e;
  std::lock_guard<std::mutex> lock(e.m);
  if (e.root.empty()) e.root = ortformers::testing::make_temp_dir("shared-kv-buffer");
  if (auto it = e.dirs.find(optimize); it != e.dirs.end()) return it->second;
  exporters::ExportOptions o;
  o.task = "text-generation-with-past";
  o.optimize = optimize;
  o.progress = false;
  const fs::path out = e.root / (optimize ? "optimized" : "plain");
  exporters::export_model(fixtures / "models" / "llama-tiny", out, o);
  return e.dirs.emplace(optimize, out).first->second;
}

ORTModelForCausalLM load(const fs::path& dir, std::optional<bool> share, bool io_binding = true) {
  CausalLMOptions o;
  o.past_present_share_buffer = share;
  o.io_binding = io_binding;
  return ORTModelForCausalLM::from_pretrained(dir.string(), o);
}

// Two left-padded prompts (pad id 0, attention_mask 0 there).
const std::vector<std::vector<std::int64_t>> kPrompts = {{1, 450, 4996, 17354, 1701, 432, 29889}, {1, 306, 763}};

std::pair<Tensor, Tensor> left_padded(const std::vector<std::vector<std::int64_t>>& prompts) {
  std::size_t len = 0;
  for (const auto& p : prompts) len = std::max(len, p.size());
  std::vector<std::int64_t> ids, mask;
  for (const auto& p : prompts) {
    for (std::size_t c = 0; c < len; ++c) {
      const bool pad = c < len - p.size();
      ids.push_back(pad ? 0 : p[c - (len - p.size())]);
      mask.push_back(pad ? 0 : 1);
    }
  }
  const auto rows = static_cast<std::int64_t>(prompts.size()), n = static_cast<std::int64_t>(len);
  return {Tensor::from_vector(ids, {rows, n}), Tensor::from_vector(mask, {rows, n})};
}

// Largest |a - b| over two float tensors of the same shape; infinities must match exactly.
double max_diff(const Tensor& a, const Tensor& b) {
  EXPECT_EQ(a.shape(), b.shape());
  if (a.shape() != b.shape()) return INFINITY;
  const auto x = a.to_float_vector(), y = b.to_float_vector();
  double d = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (std::isinf(x[i]) || std::isinf(y[i])) {
      if (x[i] != y[i]) return INFINITY;
      continue;
    }
    d = std::max(d, static_cast<double>(std::fabs(x[i] - y[i])));
  }
  return d;
}

std::int64_t argmax(const float* row, std::int64_t vocab) {
  return std::max_element(row, row + vocab) - row;
}

}  // namespace

TEST(SharedKvBuffer, TheOptimizedExportDeclaresItAndOnlyIoBindingUsesIt) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const fs::path opt = llama_tiny(fixtures, true), plain = llama_tiny(fixtures, false);
  EXPECT_TRUE(load(opt, std::nullopt).past_present_share_buffer());
  EXPECT_FALSE(load(opt, false).past_present_share_buffer());
  EXPECT_FALSE(load(opt, std::nullopt, false).past_present_share_buffer());
  EXPECT_FALSE(load(plain, std::nullopt).past_present_share_buffer());
  // The metadata survives ONNX Runtime's own format (the server's and `ortformers run`'s session cache).
  CausalLMOptions cached;
  cached.base.session.ort_format_cache_dir = opt.parent_path() / "ort-cache";
  for (int load_count = 0; load_count < 2; ++load_count) {
    const auto m = ORTModelForCausalLM::from_pretrained(opt.string(), cached);
    EXPECT_TRUE(m.past_present_share_buffer()) << "load " << load_count;
    if (load_count == 1) {
      EXPECT_TRUE(m.session().loaded_from_ort_cache());
    }
  }
  try {
    (void)load(opt, true, false);
    ADD_FAILURE() << "past_present_share_buffer=true without io_binding loaded";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("io_binding"), std::string::npos) << e.what();
  }
  // The plain graph (present = Concat(past, new)) cannot write in place: forced, its first step fails clearly.
  const auto forced = load(plain, true);
  EXPECT_TRUE(forced.past_present_share_buffer());
  auto state = forced.start();
  const auto [ids, mask] = left_padded(kPrompts);
  try {
    (void)state->step(ids, mask);
    ADD_FAILURE() << "a Concat graph ran with a shared past/present buffer";
  } catch (const RuntimeError& e) {
    EXPECT_NE(std::string(e.what()).find("past_present_share_buffer=false"), std::string::npos) << e.what();
  }
}

struct GenerateCase {
  const char* name;
  const char* kwargs;  // generate() kwargs (JSON)
};

class SharedKvBufferGenerate : public ::testing::TestWithParam<GenerateCase> {};

// generate() on a left-padded batch of 2: sequences identical, every step's scores within 1e-4, beam scores too.
TEST_P(SharedKvBufferGenerate, EqualsTheCopyingPath) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const fs::path dir = llama_tiny(fixtures, true);
  const auto shared = load(dir, std::nullopt), copying = load(dir, false);
  ASSERT_TRUE(shared.past_present_share_buffer());
  auto config = generation::GenerationConfig::from_pretrained(dir.string());
  const Json unused = config.update(Json::parse(GetParam().kwargs));
  ASSERT_TRUE(unused.empty()) << unused.dump();
  const auto [ids, mask] = left_padded(kPrompts);
  const auto a = generation::generate(shared, ids, mask, config);
  const auto b = generation::generate(copying, ids, mask, config);
  EXPECT_EQ(a.sequences.to_vector<std::int64_t>(), b.sequences.to_vector<std::int64_t>());
  EXPECT_EQ(a.sequences.shape(), b.sequences.shape());
  ASSERT_EQ(a.scores.size(), b.scores.size());
  ASSERT_FALSE(a.scores.empty());
  double worst = 0;
  for (std::size_t s = 0; s < a.scores.size(); ++s) worst = std::max(worst, max_diff(a.scores[s], b.scores[s]));
  EXPECT_LE(worst, kTol);
  if (b.sequences_scores.defined()) {
    EXPECT_LE(max_diff(a.sequences_scores, b.sequences_scores), kTol);
  }
  RecordProperty("max_score_diff", std::to_string(worst));
}

INSTANTIATE_TEST_SUITE_P(
    Modes, SharedKvBufferGenerate,
    ::testing::Values(GenerateCase{"greedy", R"({"max_new_tokens": 24, "output_scores": true})"},
                      GenerateCase{"sampling", R"({"max_new_tokens": 24, "do_sample": true, "seed": 7, "top_k": 50,
                                     "temperature": 0.8, "num_return_sequences": 2, "output_scores": true})"},
                      GenerateCase{"beams", R"({"max_new_tokens": 16, "num_beams": 3, "num_return_sequences": 2,
                                  "output_scores": true})"}),
    [](const auto& info) { return std::string(info.param.name); });

// Step by step with a reserve() far too small: the buffer is regrown (copied into twice the capacity) several times
// and every step's logits still equal the copying path's.
TEST(SharedKvBuffer, StepLogitsMatchWhileTheBufferOutgrowsItsReserve) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const fs::path dir = llama_tiny(fixtures, true);
  const auto shared = load(dir, std::nullopt), copying = load(dir, false);
  auto a = shared.start(), b = copying.start();
  a->reserve(8);
  auto [ids, mask] = left_padded(kPrompts);
  const std::int64_t rows = ids.dim(0);
  std::vector<std::int64_t> m = mask.to_vector<std::int64_t>();
  std::int64_t total = mask.dim(1);
  double worst = 0;
  for (int step = 0; step < 70; ++step) {
    const Tensor mt = Tensor::from_vector(m, {rows, total});
    const Tensor la = a->step(ids, mt), lb = b->step(ids, mt);
    worst = std::max(worst, max_diff(la, lb));
    ASSERT_LE(worst, kTol) << "step " << step;
    std::vector<std::int64_t> next, grown;
    for (std::int64_t r = 0; r < rows; ++r) {
      next.push_back(argmax(la.data<float>() + r * la.dim(1), la.dim(1)));
      EXPECT_EQ(next.back(), argmax(lb.data<float>() + r * lb.dim(1), lb.dim(1))) << "step " << step;
      grown.insert(grown.end(), m.begin() + r * total, m.begin() + (r + 1) * total);
      grown.push_back(1);
    }
    ids = Tensor::from_vector(next, {rows, 1});
    m = std::move(grown);
    ++total;
  }
  EXPECT_EQ(a->past_length(), total - 1);
  RecordProperty("max_logit_diff", std::to_string(worst));
}

// The server's continuous batching on the shared buffer: rows prefilled alone join a running state (append_rows,
// left-padding the shorter past), leave it (select_rows) and the common padding is dropped (trim_past); every row's
// logits at every step equal its solo run on the copying path.
TEST(SharedKvBuffer, RowsJoiningAndLeavingEqualTheirSoloRuns) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const fs::path dir = llama_tiny(fixtures, true);
  const auto shared = load(dir, std::nullopt), copying = load(dir, false);
  const std::vector<ortformers::testing::JoiningRow> rows = {
      {{1, 450, 4996, 17354, 1701, 432}, 0, 9},
      {{1, 306}, 2, 12},
      {{1, 3529, 4996, 17354, 1701, 432, 29889, 910, 338, 263, 1243}, 3, 7},
      {{1}, 5, 12}};
  ortformers::testing::JoinRowsResult result;
  ortformers::testing::run_joining_rows(shared, copying, rows, kTol, result);
  EXPECT_GE(result.trims, 1);
  RecordProperty("max_logit_diff", std::to_string(result.max_logit_diff));
}
