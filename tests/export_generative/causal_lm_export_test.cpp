// Native export of the decoder-only fixtures (models/gpt2-tiny, models/llama-tiny) against transformers 4.31
// (reference/<name>.json): our files, loaded by ORTModelForCausalLM, reproduce every `forward` reference (whole
// sequence, step by step with past, left-padded batch) within 1e-4 and every `generate` case's sequences exactly;
// inputs / outputs as optimum 1.17 declares them (model.onnx, and the legacy decoder_model.onnx +
// decoder_with_past_model.onnx); a prompt prefilled in chunks equals one prefill; the text-generation form without
// past; bad configs name the field.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <set>

#include "export/exporter.hpp"
#include "onnx_io.hpp"
#include "ortformers/core/error.hpp"
#include "ortformers/core/json.hpp"
#include "ortformers/export/export.hpp"
#include "ortformers/export/quantize.hpp"
#include "ortformers/generation/generate.hpp"
#include "ortformers/models/causal_lm.hpp"
#include "ortformers/runtime/session.hpp"
#include "support/chunked_prefill.hpp"
#include "support/derived_checkpoint.hpp"
#include "support/fixtures.hpp"
#include "support/generative_reference.hpp"

using namespace ortformers;
using namespace ortformers::models;
namespace fs = std::filesystem;

namespace {

constexpr double kTol = 1e-4;

const Json& reference(const fs::path& fixtures, const std::string& name) {
  return ortformers::testing::cached_reference(fixtures, name);
}

const Json& forward_entry(const Json& ref, const std::string& id) {
  for (const auto& e : ref.at("forward"))
    if (e.at("id") == id) return e;
  throw std::runtime_error("no forward entry " + id);
}

using ortformers::testing::compare_logits;
using ortformers::testing::int_tensor;

// Our exports, made once per (model, options) in a temp folder removed at exit.
struct Exports {
  fs::path root;
  std::map<std::string, fs::path> dirs;
  std::mutex m;
  ~Exports() {
    std::error_code ec;
    if (!root.empty()) fs::remove_all(root, ec);
  }
};
Exports& exports() {
  static Exports e;
  return e;
}

fs::path exported(const fs::path& fixtures, const std::string& name, const exporters::ExportOptions& o,
                  const std::string& tag) {
  auto& e = exports();
  std::lock_guard<std::mutex> lock(e.m);
  if (e.root.empty()) e.root = ortformers::testing::make_temp_dir("export-generative");
  const std::string key = name + "-" + tag;
  auto it = e.dirs.find(key);
  if (it != e.dirs.end()) return it->second;
  const fs::path out = e.root / key;
  exporters::ExportOptions opts = o;
  opts.progress = false;
  exporters::export_model(fixtures / "models" / name, out, opts);
  return e.dirs.emplace(key, out).first->second;
}

struct Case {
  const char* name;       // fixture model
  bool legacy;            // decoder_model.onnx + decoder_with_past_model.onnx + decoder_model_merged.onnx
  bool merged;            // legacy: load the merged decoder (else the two split ones)
  bool optimize = false;  // --optimize: the contrib-op decoder (llama), same interface, same references
};
const Case kCases[] = {{"gpt2-tiny", false, false},       {"llama-tiny", false, false}, {"gpt2-tiny", true, true},
                       {"llama-tiny", true, true},        {"gpt2-tiny", true, false},   {"llama-tiny", true, false},
                       {"llama-tiny", false, false, true}};
std::string case_name(const Case& c) {
  std::string n = c.name;
  for (auto& ch : n)
    if (ch == '-') ch = '_';
  return n + (c.legacy ? (c.merged ? "_legacy_merged" : "_legacy_split") : "_model_onnx") +
         (c.optimize ? "_optimized" : "");
}

fs::path export_case(const fs::path& fixtures, const Case& c) {
  exporters::ExportOptions o;
  o.task = "text-generation-with-past";
  o.legacy = c.legacy;
  o.optimize = c.optimize;
  return exported(fixtures, c.name, o, std::string(c.legacy ? "legacy" : "model") + (c.optimize ? "-opt" : ""));
}

using ortformers::testing::check_onnx_io;

std::vector<std::vector<std::int64_t>> rows_of(const Tensor& t) {
  const auto v = t.to_vector<std::int64_t>();
  std::vector<std::vector<std::int64_t>> rows;
  for (std::int64_t r = 0; r < t.dim(0); ++r)
    rows.emplace_back(v.begin() + r * t.dim(1), v.begin() + (r + 1) * t.dim(1));
  return rows;
}

ORTModelForCausalLM load(const fs::path& fixtures, const Case& c) {
  CausalLMOptions o;
  if (c.legacy) o.use_merged = c.merged;
  return ORTModelForCausalLM::from_pretrained(export_case(fixtures, c).string(), o);
}

// compare_logits over the positions attention_mask marks real (left padding: the last ones of each row). The fused
// graph's GroupQueryAttention gives a query whose every visible key is padding another (unused) output than the
// plain graph's uniform average: those logits are meaningless in both, generation never reads them.
double compare_real_positions(const Tensor& actual, const Json& ref, const Tensor& mask) {
  const std::int64_t b = actual.dim(0), s = actual.dim(1), vocab = actual.dim(2), total = mask.dim(1);
  const auto m = mask.to_vector<std::int64_t>();
  const auto values = actual.to_float_vector();
  const auto s_ref = ref.at("shape")[1].get<std::int64_t>();
  const auto nc = static_cast<std::int64_t>(ref.at("columns").size());
  double worst = 0;
  for (std::int64_t r = 0; r < b; ++r) {
    std::int64_t pads = 0;
    while (pads < total && m[static_cast<std::size_t>(r * total + pads)] == 0) ++pads;
    const std::int64_t first = std::max<std::int64_t>(0, pads - (total - s));  // first real new position
    if (first >= s) continue;
    Json one = ref;
    one["shape"] = Json::array({1, s_ref, ref.at("shape")[2]});
    const auto& data = ref.at("data");
    one["data"] = Json(std::vector<Json>(data.begin() + r * s_ref * nc, data.begin() + (r + 1) * s_ref * nc));
    one["topk"]["indices"] = Json::array({ref.at("topk").at("indices")[static_cast<std::size_t>(r)]});
    one["topk"]["values"] = Json::array({ref.at("topk").at("values")[static_cast<std::size_t>(r)]});
    const auto* src = values.data() + (r * s + first) * vocab;
    const Tensor row = Tensor::from_vector(std::vector<float>(src, src + (s - first) * vocab), {1, s - first, vocab});
    worst = std::max(worst, compare_logits(row, one));
  }
  return worst;
}

class ExportCausalLM : public ::testing::TestWithParam<Case> {};

}  // namespace

TEST_P(ExportCausalLM, InputsAndOutputsAsOptimum) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const Case& c = GetParam();
  const fs::path dir = export_case(fixtures, c);
  const Json& onnx = reference(fixtures, c.name).at("onnx");
  // optimum's own files: model.onnx (both fixtures), the legacy ones for GPT-2 only.
  const std::string folder = std::string(c.name) + (c.legacy ? "-legacy" : "");
  if (!onnx.contains(folder)) {
    // Llama has no legacy reference export: check the file set and that the graphs load (the forward tests run them).
    EXPECT_TRUE(fs::exists(dir / "decoder_model.onnx"));
    EXPECT_TRUE(fs::exists(dir / "decoder_with_past_model.onnx"));
    EXPECT_TRUE(fs::exists(dir / "decoder_model_merged.onnx"));
    return;
  }
  int checked = 0;
  for (const auto& [file, rec] : onnx.at(folder).at("onnx_files").items()) {
    SCOPED_TRACE(file);
    check_onnx_io(dir / file, rec);
    ++checked;
  }
  EXPECT_EQ(checked, c.legacy ? 3 : 1);
  EXPECT_TRUE(fs::exists(dir / "config.json"));
  EXPECT_TRUE(fs::exists(dir / "generation_config.json"));
}

TEST_P(ExportCausalLM, LoadsAsTheLayout) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const Case& c = GetParam();
  const auto m = load(fixtures, c);
  EXPECT_EQ(m.layout(), !c.legacy  ? CausalLMLayout::Single
                        : c.merged ? CausalLMLayout::Merged
                                   : CausalLMLayout::Split)
      << layout_name(m.layout());
  EXPECT_EQ(m.takes_position_ids(), !c.legacy);
  const auto present = forward_entry(reference(fixtures, c.name), "full").at("present_shapes");
  EXPECT_EQ(m.num_layers(), static_cast<std::int64_t>(present.size()));
  EXPECT_EQ(m.num_key_value_heads(), present[0][0][1].get<std::int64_t>());
  EXPECT_EQ(m.head_dim(), present[0][0][3].get<std::int64_t>());
}

TEST_P(ExportCausalLM, ForwardFullMatchesPyTorch) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const Case& c = GetParam();
  const auto m = load(fixtures, c);
  const Json& e = forward_entry(reference(fixtures, c.name), "full");
  const Tensor ids = int_tensor(e.at("inputs").at("input_ids"));
  const Tensor mask = int_tensor(e.at("inputs").at("attention_mask"));
  const auto out = m.forward(ids, mask, int_tensor(e.at("inputs").at("position_ids")));
  const double d = compare_logits(out.logits, e.at("logits"));
  EXPECT_LE(d, kTol);
  RecordProperty("max_logit_diff", std::to_string(d));
  ASSERT_EQ(out.past_key_values.size(), e.at("present_shapes").size());
  for (std::size_t l = 0; l < out.past_key_values.size(); ++l) {
    EXPECT_EQ(out.past_key_values[l].key.shape(), e.at("present_shapes")[l][0].get<Shape>());
    EXPECT_EQ(out.past_key_values[l].value.shape(), e.at("present_shapes")[l][1].get<Shape>());
  }
}

TEST_P(ExportCausalLM, ForwardStepByStepAndLeftPaddedMatchPyTorch) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const Case& c = GetParam();
  const auto m = load(fixtures, c);
  const Json& ref = reference(fixtures, c.name);
  double worst = 0;
  for (const char* id : {"step_by_step", "batch_left_padded"}) {
    // The legacy graphs have no position_ids (positions count the padding, as optimum warns): unpadded only.
    if (std::string(id) == "batch_left_padded" && c.legacy) continue;
    SCOPED_TRACE(id);
    PastKeyValues past;
    int n = 0;
    for (const auto& st : forward_entry(ref, id).at("steps")) {
      SCOPED_TRACE("step " + std::to_string(n++));
      const std::int64_t past_len = past.empty() ? 0 : past[0].key.dim(2);
      EXPECT_EQ(past_len, st.at("past_length").get<std::int64_t>());
      auto out = m.forward(int_tensor(st.at("input_ids")), int_tensor(st.at("attention_mask")),
                           st.contains("position_ids") ? int_tensor(st.at("position_ids")) : Tensor{}, past);
      const double d = c.optimize
                           ? compare_real_positions(out.logits, st.at("logits"), int_tensor(st.at("attention_mask")))
                           : compare_logits(out.logits, st.at("logits"));
      EXPECT_LE(d, kTol);
      worst = std::max(worst, d);
      past = std::move(out.past_key_values);
    }
    EXPECT_GE(n, 3);
  }
  RecordProperty("max_logit_diff", std::to_string(worst));
}

// Every generate() case of the reference (greedy, penalties, n-gram blocking, bad words, beams, ...) on our export:
// sequences identical, processed scores and beam sequences_scores within 1e-4; the legacy graphs (no position_ids)
// only the unpadded ones.
TEST_P(ExportCausalLM, GenerateReproducesTransformers) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const Case& c = GetParam();
  const auto m = load(fixtures, c);
  const Json& ref = reference(fixtures, c.name);
  const auto defaults = generation::GenerationConfig::from_pretrained(fixtures / "models" / c.name);
  int checked = 0, greedy = 0;
  double worst_scores = 0;
  for (const auto& g : ref.at("generate")) {
    const std::string input = g.at("input");
    if (c.legacy && input != "input0") continue;
    const std::string id = g.at("id").get<std::string>() + "/" + input;
    const Json& in = ref.at("generate_inputs").at(input);
    generation::GenerationConfig config = defaults;
    const Json unused = config.update(g.at("kwargs"));
    ASSERT_TRUE(unused.empty()) << id << ": " << unused.dump();
    config.output_scores = true;
    config.return_dict_in_generate = true;
    const auto out =
        generation::generate(m, int_tensor(in.at("input_ids")), int_tensor(in.at("attention_mask")), config);
    const auto diffs = ortformers::testing::check_generate_case(out, g, id, kTol);
    worst_scores = std::max({worst_scores, diffs.scores, diffs.sequences_scores});
    ++checked;
    greedy += g.at("id") == "greedy" ? 1 : 0;
  }
  EXPECT_GE(greedy, 1);
  EXPECT_GE(checked, 10);
  RecordProperty("generate_cases", checked);
  RecordProperty("max_score_diff", std::to_string(worst_scores));
}

// Chunked prefill (the server's --max-batch-prefill-tokens) on our exports, the fused --optimize decoder included
// (GroupQueryAttention over a past with several new tokens): a prompt fed in chunks of 1, 7 and 32 tokens gives the
// logits of one whole prefill within 1e-4 and the same greedy tokens after it.
TEST_P(ExportCausalLM, ChunkedPrefillEqualsOnePrefill) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const auto m = load(fixtures, GetParam());
  const auto prompt = ortformers::testing::chunking_prompt(45, m.vocab_size());
  const auto whole = ortformers::testing::greedy_after_prefill(m, prompt, 45, 6);
  for (std::int64_t chunk : {1, 7, 32}) {
    SCOPED_TRACE("chunk " + std::to_string(chunk));
    const auto chunked = ortformers::testing::greedy_after_prefill(m, prompt, chunk, 6);
    EXPECT_EQ(chunked.past_after_prompt, 45);
    EXPECT_LE(ortformers::testing::max_logits_diff(chunked, whole), kTol);
    EXPECT_EQ(chunked.tokens, whole.tokens);
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, ExportCausalLM, ::testing::ValuesIn(kCases),
                         [](const auto& info) { return case_name(info.param); });

// text-generation (no past): model.onnx with input_ids, attention_mask, position_ids -> logits only.
TEST(ExportCausalLMNoPast, LogitsOnlyGraphMatchesPyTorch) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  for (const char* name : {"gpt2-tiny", "llama-tiny"}) {
    SCOPED_TRACE(name);
    exporters::ExportOptions o;
    o.task = "text-generation";
    const fs::path dir = exported(fixtures, name, o, "nopast");
    onnx::ModelProto model;
    std::ifstream in(dir / "model.onnx", std::ios::binary);
    ASSERT_TRUE(model.ParseFromIstream(&in));
    std::vector<std::string> inputs, outputs;
    for (const auto& i : model.graph().input()) inputs.push_back(i.name());
    for (const auto& i : model.graph().output()) outputs.push_back(i.name());
    EXPECT_EQ(inputs, (std::vector<std::string>{"input_ids", "attention_mask", "position_ids"}));
    EXPECT_EQ(outputs, std::vector<std::string>{"logits"});
    CausalLMOptions co;
    co.use_cache = false;
    const auto m = ORTModelForCausalLM::from_pretrained(dir.string(), co);
    const Json& ref = reference(fixtures, name);
    const Json& e = forward_entry(ref, "full");
    EXPECT_LE(compare_logits(m.forward(int_tensor(e.at("inputs").at("input_ids"))).logits, e.at("logits")), kTol);
    // The left-padded prompt batch (step 0 of batch_left_padded) at once.
    const Json& st = forward_entry(ref, "batch_left_padded").at("steps")[0];
    EXPECT_LE(compare_logits(m.forward(int_tensor(st.at("input_ids")), int_tensor(st.at("attention_mask"))).logits,
                             st.at("logits")),
              kTol);
  }
}

// The task is inferred from the architectures (LMHeadModel / ForCausalLM -> text-generation-with-past).
TEST(ExportCausalLMTask, InferredFromTheCheckpoint) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  EXPECT_EQ(exporters::infer_task(fixtures / "models" / "gpt2-tiny"), "text-generation-with-past");
  EXPECT_EQ(exporters::infer_task(fixtures / "models" / "llama-tiny"), "text-generation-with-past");
  EXPECT_EQ(exporters::normalize_task("causal-lm-with-past"), "text-generation-with-past");
}

// --- bad input ------------------------------------------------------------------------------------------------

namespace {

template <class E>
void expect_error(const std::function<void()>& fn, const std::vector<std::string>& needles) {
  try {
    fn();
    ADD_FAILURE() << "no error (expected one mentioning '" << needles.front() << "')";
  } catch (const E& e) {
    for (const auto& n : needles) EXPECT_NE(std::string(e.what()).find(n), std::string::npos) << e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "wrong error type: " << e.what();
  }
}

void build(const fs::path& dir, const std::string& task = "text-generation-with-past", bool optimize = false) {
  exporters::ExportOptions o;
  o.task = task;
  o.optimize = optimize;
  (void)exporters::build_model(dir, o);
}

}  // namespace

TEST(ExportCausalLMErrors, UnsupportedConfigValuesNameTheField) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  using ortformers::testing::derive;
  const auto keep = [](ortformers::testing::NamedTensors&) {};
  {
    auto d = derive(
        fixtures, "llama-tiny",
        [](Json& c) {
          c["rope_scaling"] = {{"type", "dynamic"}, {"factor", 2.0}};
        },
        keep);
    expect_error<UnsupportedError>([&] { build(d->dir); }, {"rope_scaling.type", "dynamic", "linear"});
  }
  {
    auto d = derive(
        fixtures, "llama-tiny",
        [](Json& c) {
          c["rope_scaling"] = {{"type", "linear"}, {"factor", -1}};
        },
        keep);
    expect_error<InvalidArgument>([&] { build(d->dir); }, {"rope_scaling.factor"});
  }
  {
    auto d = derive(
        fixtures, "llama-tiny", [](Json& c) { c["num_key_value_heads"] = 3; }, keep);
    expect_error<InvalidArgument>([&] { build(d->dir); }, {"num_key_value_heads 3"});
  }
  {
    auto d = derive(
        fixtures, "llama-tiny", [](Json& c) { c["hidden_act"] = "mish"; }, keep);
    expect_error<UnsupportedError>([&] { build(d->dir); }, {"activation 'mish'"});
  }
  {
    auto d = derive(
        fixtures, "llama-tiny", [](Json& c) { c["num_hidden_layers"] = 0; }, keep);
    expect_error<InvalidArgument>([&] { build(d->dir); }, {"num_hidden_layers must be a positive integer"});
  }
  {
    // Untied head without lm_head.weight: the missing tensor is named.
    auto d = derive(
        fixtures, "llama-tiny", [](Json&) {},
        [](ortformers::testing::NamedTensors& t) {
          ortformers::testing::drop_if(t, [](const std::string& n) { return n == "lm_head.weight"; });
        });
    expect_error<NotFoundError>([&] { build(d->dir); }, {"lm_head.weight"});
  }
  {
    auto d = derive(
        fixtures, "gpt2-tiny", [](Json& c) { c["n_head"] = 5; }, keep);
    expect_error<InvalidArgument>([&] { build(d->dir); }, {"n_embd 32", "n_head 5"});
  }
  {
    auto d = derive(
        fixtures, "gpt2-tiny", [](Json& c) { c["add_cross_attention"] = true; }, keep);
    expect_error<UnsupportedError>([&] { build(d->dir); }, {"add_cross_attention"});
  }
  {
    auto d = derive(
        fixtures, "gpt2-tiny", [](Json& c) { c["n_embd"] = 64; }, keep);
    expect_error<InvalidArgument>([&] { build(d->dir); }, {"wte.weight", "[50257, 32]", "[50257, 64]"});
  }
  expect_error<UnsupportedError>([&] { build(fixtures / "models" / "gpt2-tiny", "fill-mask"); },
                                 {"fill-mask", "gpt2", "text-generation-with-past"});
  expect_error<UnsupportedError>([&] { build(fixtures / "models" / "gpt2-tiny", "auto", true); }, {"--optimize"});
  expect_error<UnsupportedError>([&] { build(fixtures / "models" / "bert-tiny", "text-generation"); },
                                 {"text-generation", "bert"});
  exporters::ExportOptions legacy_bert;
  legacy_bert.legacy = true;
  const fs::path out = ortformers::testing::make_temp_dir("export-legacy-bert");
  expect_error<InvalidArgument>([&] { exporters::export_model(fixtures / "models" / "bert-tiny", out, legacy_bert); },
                                {"legacy", "feature-extraction"});
  std::error_code ec;
  fs::remove_all(out, ec);
}

// Linear rope_scaling changes the logits (positions divided by the factor), and factor 1 changes nothing.
TEST(ExportCausalLMRope, LinearScalingIsApplied) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  using ortformers::testing::derive;
  const auto keep = [](ortformers::testing::NamedTensors&) {};
  const Json& e = forward_entry(reference(fixtures, "llama-tiny"), "full");
  const Tensor ids = int_tensor(e.at("inputs").at("input_ids"));
  std::map<double, std::vector<float>> logits;
  for (double factor : {1.0, 2.0}) {
    auto d = derive(
        fixtures, "llama-tiny",
        [&](Json& c) {
          c["rope_scaling"] = {{"type", "linear"}, {"factor", factor}};
        },
        keep);
    const fs::path out = d->dir / "onnx";
    exporters::ExportOptions o;
    o.task = "text-generation-with-past";
    exporters::export_model(d->dir, out, o);
    const auto m = ORTModelForCausalLM::from_pretrained(out.string());
    const Tensor l = m.forward(ids).logits;
    if (factor == 1.0) {
      EXPECT_LE(compare_logits(l, e.at("logits")), kTol);
    }
    logits[factor] = l.to_float_vector();
  }
  // Position 0 is unchanged (angle 0), later positions move.
  double d = 0;
  for (std::size_t i = 0; i < logits[1.0].size(); ++i)
    d = std::max(d, std::fabs(double(logits[1.0][i]) - logits[2.0][i]));
  EXPECT_GT(d, 1e-3);
}

// --- quantised exports ------------------------------------------------------------------------------------------

namespace {

struct QuantizedAccuracy {
  double max_logit_diff = 0, logit_range = 0;       // over the prompts' real (unpadded) positions
  std::int64_t steps = 0, agreeing_steps = 0;       // teacher-forced: argmax equal on the float greedy prefix
  std::int64_t sequences = 0, equal_sequences = 0;  // free-running greedy, the `greedy` cases' rows
  // Free-running, every greedy generate case of the reference (num_beams 1, no sampling: the processors, EOS lists,
  // min / max lengths) on each of its inputs: rows whose new tokens (up to EOS) are identical, and the length of the
  // matching prefix of new tokens, summed over rows, with the float rows' new-token count.
  std::int64_t all_sequences = 0, all_identical = 0, prefix_tokens = 0, float_new_tokens = 0;
  std::int64_t float_weight_matmuls = 0, quantized_matmuls = 0;  // in the quantised graph
};

std::int64_t argmax_at(const std::vector<float>& v, std::size_t offset, std::int64_t vocab) {
  std::int64_t best = 0;
  for (std::int64_t i = 1; i < vocab; ++i)
    if (v[offset + i] > v[offset + best]) best = i;
  return best;
}

// Float vs quantised export of `name` over the reference's prompts (the first prompt and the left-padded batch of
// the "greedy" cases): logits of the prompt, the argmax at every step of the float greedy continuation fed to both
// (teacher-forced), and whether free-running greedy sequences are identical; and free-running over every greedy
// case (the processors, EOS lists and length limits too): identical rows and matching prefixes of new tokens.
QuantizedAccuracy measure(const fs::path& fixtures, const std::string& name, const std::string& scheme) {
  exporters::ExportOptions o;
  o.task = "text-generation-with-past";
  const fs::path float_dir = exported(fixtures, name, o, "model");
  o.quantize = scheme;
  const fs::path q_dir = exported(fixtures, name, o, scheme);
  QuantizedAccuracy a;
  {
    onnx::ModelProto model;
    std::ifstream in(q_dir / "model.onnx", std::ios::binary);
    EXPECT_TRUE(model.ParseFromIstream(&in));
    std::set<std::string> inits;
    for (const auto& t : model.graph().initializer()) inits.insert(t.name());
    for (const auto& n : model.graph().node()) {
      if (n.op_type() == "MatMul" && n.input_size() == 2 && inits.count(n.input(1))) ++a.float_weight_matmuls;
      if (n.op_type() == "DynamicQuantizeMatMul" || n.op_type() == "MatMulNBits") ++a.quantized_matmuls;
    }
  }
  const auto fm = ORTModelForCausalLM::from_pretrained(float_dir.string());
  const auto qm = ORTModelForCausalLM::from_pretrained(q_dir.string());
  const Json& ref = reference(fixtures, name);
  const auto defaults = generation::GenerationConfig::from_pretrained(fixtures / "models" / name);
  const std::int64_t vocab = fm.vocab_size();
  double lo = INFINITY, hi = -INFINITY;
  for (const auto& g : ref.at("generate")) {
    generation::GenerationConfig config = defaults;
    config.update(g.at("kwargs"));
    if (config.num_beams != 1 || config.do_sample) continue;
    const Json& in = ref.at("generate_inputs").at(g.at("input").get<std::string>());
    const Tensor ids = int_tensor(in.at("input_ids")), mask = int_tensor(in.at("attention_mask"));
    const std::int64_t rows = ids.dim(0), len = ids.dim(1);
    const auto fseq = rows_of(generation::generate(fm, ids, mask, config).sequences);
    const auto qseq = rows_of(generation::generate(qm, ids, mask, config).sequences);
    const auto new_tokens = [&](const std::vector<std::int64_t>& row) {
      std::vector<std::int64_t> out;
      for (auto t = static_cast<std::size_t>(len); t < row.size(); ++t) {
        out.push_back(row[t]);
        if (std::find(config.eos_token_id.begin(), config.eos_token_id.end(), row[t]) != config.eos_token_id.end())
          break;
      }
      return out;
    };
    for (std::size_t r = 0; r < fseq.size(); ++r) {
      const auto f = new_tokens(fseq[r]), q = new_tokens(qseq[r]);
      std::size_t prefix = 0;
      while (prefix < f.size() && prefix < q.size() && f[prefix] == q[prefix]) ++prefix;
      ++a.all_sequences;
      a.all_identical += f == q ? 1 : 0;
      a.prefix_tokens += static_cast<std::int64_t>(prefix);
      a.float_new_tokens += static_cast<std::int64_t>(f.size());
    }
    if (g.at("id") != "greedy") continue;
    for (std::size_t r = 0; r < fseq.size(); ++r) {
      ++a.sequences;
      a.equal_sequences += fseq[r] == qseq[r] ? 1 : 0;
    }
    // The float greedy sequences through both models at once.
    const auto total = static_cast<std::int64_t>(fseq[0].size());
    std::vector<std::int64_t> flat, full_mask;
    const auto m = mask.to_vector<std::int64_t>();
    for (std::int64_t r = 0; r < rows; ++r) {
      flat.insert(flat.end(), fseq[r].begin(), fseq[r].end());
      full_mask.insert(full_mask.end(), m.begin() + r * len, m.begin() + (r + 1) * len);
      full_mask.insert(full_mask.end(), total - len, 1);
    }
    const Tensor all = Tensor::from_vector(flat, {rows, total}),
                 all_mask = Tensor::from_vector(full_mask, {rows, total});
    const auto fl = fm.forward(all, all_mask).logits.to_float_vector();
    const auto ql = qm.forward(all, all_mask).logits.to_float_vector();
    for (std::int64_t r = 0; r < rows; ++r)
      for (std::int64_t t = 0; t < total; ++t) {
        if (full_mask[r * total + t] == 0) continue;
        const auto off = static_cast<std::size_t>((r * total + t) * vocab);
        if (t < len) {
          for (std::int64_t v = 0; v < vocab; ++v) {
            a.max_logit_diff = std::max(a.max_logit_diff, std::fabs(static_cast<double>(fl[off + v]) - ql[off + v]));
            lo = std::min(lo, static_cast<double>(fl[off + v]));
            hi = std::max(hi, static_cast<double>(fl[off + v]));
          }
        }
        if (t >= len - 1 && t + 1 < total) {
          const auto f = argmax_at(fl, off, vocab);
          if (f != fseq[r][t + 1]) continue;  // a finished row's padding
          ++a.steps;
          a.agreeing_steps += argmax_at(ql, off, vocab) == f ? 1 : 0;
        }
      }
  }
  a.logit_range = hi - lo;
  return a;
}

void report(const std::string& name, const std::string& scheme, const QuantizedAccuracy& a) {
  const double agreement = static_cast<double>(a.agreeing_steps) / static_cast<double>(a.steps);
  std::printf(
      "%s %s: max logit diff %.4f (float logit range %.2f), greedy argmax agreement %lld/%lld = %.3f, identical "
      "greedy sequences %lld/%lld; every greedy case: identical %lld/%lld, matching prefix %lld of %lld new tokens; "
      "%lld int8/int4 MatMuls, %lld float weight MatMuls\n",
      name.c_str(), scheme.c_str(), a.max_logit_diff, a.logit_range, static_cast<long long>(a.agreeing_steps),
      static_cast<long long>(a.steps), agreement, static_cast<long long>(a.equal_sequences),
      static_cast<long long>(a.sequences), static_cast<long long>(a.all_identical),
      static_cast<long long>(a.all_sequences), static_cast<long long>(a.prefix_tokens),
      static_cast<long long>(a.float_new_tokens), static_cast<long long>(a.quantized_matmuls),
      static_cast<long long>(a.float_weight_matmuls));
  ::testing::Test::RecordProperty(name + "_" + scheme + "_max_logit_diff", std::to_string(a.max_logit_diff));
  ::testing::Test::RecordProperty(name + "_" + scheme + "_greedy_agreement", std::to_string(agreement));
}

// An 8-bit scheme on gpt2-tiny and llama-tiny: every weight MatMul quantized, logits within `max_diff` of the float
// range, teacher-forced argmax agreement >= 50 %, and over every greedy case (36 rows) at least `identical` of the
// free-running sequences identical and 20 % of the new tokens in matching prefixes.
void expect_8bit_close_to_float(const fs::path& fixtures, const char* scheme, double max_diff, double identical) {
  for (const char* name : {"gpt2-tiny", "llama-tiny"}) {
    SCOPED_TRACE(std::string(name) + " " + scheme);
    const auto a = measure(fixtures, name, scheme);
    report(name, scheme, a);
    EXPECT_EQ(a.float_weight_matmuls, 0);
    EXPECT_GT(a.quantized_matmuls, 0);
    EXPECT_GT(a.steps, 20);
    EXPECT_GT(a.max_logit_diff, 0.0);  // it did change the arithmetic
    EXPECT_LT(a.max_logit_diff, max_diff * a.logit_range);
    EXPECT_GE(static_cast<double>(a.agreeing_steps), 0.5 * static_cast<double>(a.steps));
    EXPECT_EQ(a.all_sequences, 36);
    EXPECT_GE(static_cast<double>(a.all_identical), identical * static_cast<double>(a.all_sequences));
    EXPECT_GE(static_cast<double>(a.prefix_tokens), 0.2 * static_cast<double>(a.float_new_tokens));
  }
}

}  // namespace

// --quantize int8 (the portable default scheme: dynamic u8 x s8, 7-bit per-channel weights) on the decoder graphs:
// every weight MatMul, the LM head included, becomes int8; logits stay within 10% of the float range.
// Free-running greedy over every greedy case (measured 2026-12-07 on AVX-512 VNNI: gpt2-tiny 16/36 identical, 61 % of
// the new tokens in the matching prefixes; llama-tiny 7/36, 36 %). The floors are about half of that, for the argmax
// near-ties that other float kernels (AVX2) may flip; a broken int8 graph gives ~0 (its first new token already
// differs).
TEST(ExportCausalLMQuantized, Int8CloseToFloat) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  expect_8bit_close_to_float(fixtures, "int8", 0.1, 0.1);
}

// --quantize int8_block: 8-bit MatMulNBits (block size 32, symmetric, int8 compute with the activations quantised
// per block): llama.cpp's Q8_0 scheme. One scale per 32 weights and per 32 activations instead of int8's per-column
// weight scale and per-tensor activation scale. Measured 2026-12-07 on AVX-512 VNNI: max logit diff 1.28 / 0.94 of a
// float range of 54 / 59 (int8: 2.75 / 1.49), teacher-forced argmax agreement 36/40 / 37/40, free-running identical
// 5/36 / 9/36 with 43 % / 42 % of the new tokens in the matching prefixes. Floors about half of that; a broken layout
// gives unrelated logits.
TEST(ExportCausalLMQuantized, Int8BlockCloseToFloat) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  expect_8bit_close_to_float(fixtures, "int8_block", 0.05, 0.05);
}

// --quantize int4 / int4_asym: weight-only 4-bit MatMulNBits (block size 32), as onnxruntime's MatMul4BitsQuantizer.
TEST(ExportCausalLMQuantized, Int4CloseToFloat) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  for (const char* scheme : {"int4", "int4_asym"}) {
    for (const char* name : {"gpt2-tiny", "llama-tiny"}) {
      SCOPED_TRACE(std::string(name) + " " + scheme);
      const auto a = measure(fixtures, name, scheme);
      report(name, scheme, a);
      EXPECT_EQ(a.float_weight_matmuls, 0);
      EXPECT_GT(a.quantized_matmuls, 0);
      EXPECT_GT(a.steps, 20);
      EXPECT_GT(a.max_logit_diff, 0.0);
      // 4 bits with one scale per 32 weights cost much more than int8 on these tiny random models (hidden 32: one
      // block per column): sanity bounds only (a broken layout gives unrelated logits and ~0 agreement); the
      // kernel layout itself is checked exactly by NBitsBlocksRoundTrip.
      EXPECT_LT(a.max_logit_diff, 0.5 * a.logit_range);
      EXPECT_GE(static_cast<double>(a.agreeing_steps), 0.25 * static_cast<double>(a.steps));
    }
  }
}

// The 4- and 8-bit blocks dequantise to the weights within half a quantisation step (MatMulNBits run on an identity
// input gives the dequantised weight back), for both schemes and a K that is not a multiple of the block size.
TEST(ExportCausalLMQuantized, NBitsBlocksRoundTrip) {
  const std::int64_t K = 40, N = 3;
  std::vector<float> w(static_cast<std::size_t>(K * N));
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = std::sin(0.37f * static_cast<float>(i)) * (1.0f + (i % 7));
  for (std::int64_t bits : {4, 8})
    for (bool symmetric : {true, false}) {
      SCOPED_TRACE(std::to_string(bits) + (symmetric ? " bits symmetric" : " bits asymmetric"));
      exporters::GraphBuilder g(17);
      g.add_input("x", onnx::TensorProto_DataType_FLOAT, {K, K});
      auto wi = g.add_raw_initializer("w", "w", onnx::TensorProto_DataType_FLOAT, {K, N}, w.data(), w.size() * 4);
      auto y = g.node("/mm", "MatMul", {"x", wi});
      g.rename_value(y, "y");
      g.add_output("y", onnx::TensorProto_DataType_FLOAT, {K, N});
      auto model = g.finish("test");
      exporters::QuantizeNBitsOptions o;
      o.bits = bits;
      o.symmetric = symmetric;
      const auto rep = exporters::quantize_matmul_nbits(model, o);
      EXPECT_EQ(rep.quantized_nodes, 1u);
      ASSERT_EQ(model.graph().node(0).op_type(), "MatMulNBits");
      EXPECT_EQ(model.graph().node(0).input_size(), symmetric ? 3 : 4);
      // B is [N, blocks, block_size * bits / 8], the zero points one nibble (4 bits) or byte (8 bits) per block.
      const std::int64_t blocks = (K + 31) / 32;
      for (const auto& t : model.graph().initializer()) {
        if (t.name().find("_Q") != std::string::npos) {
          ASSERT_EQ(t.dims_size(), 3);
          EXPECT_EQ(t.dims(2), 32 * bits / 8);
        }
        if (t.name().find("_zero_points") != std::string::npos) {
          EXPECT_EQ(t.dims(0), bits == 4 ? N * ((blocks + 1) / 2) : N * blocks);
        }
      }
      const fs::path dir = ortformers::testing::make_temp_dir("nbits-roundtrip");
      exporters::save_model(model, dir / "m.onnx");
      auto session = runtime::Session(dir / "m.onnx");
      std::vector<float> eye(static_cast<std::size_t>(K * K), 0.0f);
      for (std::int64_t i = 0; i < K; ++i) eye[static_cast<std::size_t>(i * K + i)] = 1.0f;
      TensorMap feeds;
      feeds.emplace("x", Tensor::from_vector(eye, {K, K}));
      const auto out = session.run(feeds, {"y"}).at("y").to_float_vector();
      const float levels = bits == 4 ? 15.0f : 255.0f, mid = bits == 4 ? 8.0f : 128.0f;
      for (std::int64_t n = 0; n < N; ++n)
        for (std::int64_t b = 0; b < blocks; ++b) {
          float lo = 0, hi = 0;
          for (std::int64_t k = b * 32; k < std::min(K, b * 32 + 32); ++k) {
            lo = std::min(lo, w[static_cast<std::size_t>(k * N + n)]);
            hi = std::max(hi, w[static_cast<std::size_t>(k * N + n)]);
          }
          const float step = symmetric ? std::max(-lo, hi) / mid : (hi - lo) / levels;
          for (std::int64_t k = b * 32; k < std::min(K, b * 32 + 32); ++k) {
            const auto i = static_cast<std::size_t>(k * N + n);
            // Symmetric: the positive end is clamped at mid - 1 steps (scale = -max|v| / mid), so allow one step
            // there.
            EXPECT_LE(std::fabs(out[i] - w[i]), (symmetric ? 1.0f : 0.5f) * step + 1e-5f) << "k " << k << " n " << n;
          }
        }
      std::error_code ec;
      fs::remove_all(dir, ec);
    }
  exporters::QuantizeNBitsOptions bad;
  bad.bits = 3;
  onnx::ModelProto empty;
  try {
    exporters::quantize_matmul_nbits(empty, bad);
    ADD_FAILURE() << "bits 3 accepted";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("bits must be 4 or 8, got 3"), std::string::npos) << e.what();
  }
}

// optimum's ORTModelForCausalLM.from_pretrained(checkpoint, export=True): the checkpoint is exported natively (into
// $ORTFORMERS_CACHE) as text-generation-with-past and loaded as model.onnx.
TEST(ExportCausalLMFromPretrained, ExportTrueLoadsTheCheckpoint) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const fs::path cache = ortformers::testing::make_temp_dir("export-generative-cache");
  const char* old = std::getenv("ORTFORMERS_CACHE");
  const std::string saved = old != nullptr ? old : "";
  ::setenv("ORTFORMERS_CACHE", cache.c_str(), 1);
  for (const char* name : {"gpt2-tiny", "llama-tiny"}) {
    SCOPED_TRACE(name);
    CausalLMOptions o;
    o.base.export_model = true;
    const auto m = ORTModelForCausalLM::from_pretrained((fixtures / "models" / name).string(), o);
    EXPECT_EQ(m.layout(), CausalLMLayout::Single);
    const Json& e = forward_entry(reference(fixtures, name), "full");
    EXPECT_LE(compare_logits(m.forward(int_tensor(e.at("inputs").at("input_ids"))).logits, e.at("logits")), kTol);
  }
  if (old != nullptr)
    ::setenv("ORTFORMERS_CACHE", saved.c_str(), 1);
  else
    ::unsetenv("ORTFORMERS_CACHE");
  std::error_code ec;
  fs::remove_all(cache, ec);
}

// Tied and untied LM heads give the same logits when the head equals the embeddings: tie_word_embeddings true
// without lm_head.weight in the file (the head reads the embedding initializer through a Transpose) vs
// tie_word_embeddings false with lm_head.weight = a copy of the embeddings (a MatMul weight of its own).
TEST(ExportCausalLMHeads, TiedAndUntiedAgree) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  using ortformers::testing::derive;
  using ortformers::testing::NamedTensors;
  for (const auto& [name, embedding] : {std::pair<std::string, std::string>{"llama-tiny", "model.embed_tokens.weight"},
                                        {"gpt2-tiny", "transformer.wte.weight"}}) {
    SCOPED_TRACE(name);
    const Json& e = forward_entry(reference(fixtures, name), "full");
    const Tensor ids = int_tensor(e.at("inputs").at("input_ids"));
    std::vector<std::vector<float>> logits;
    for (bool tie : {true, false}) {
      auto d = derive(
          fixtures, name, [&](Json& c) { c["tie_word_embeddings"] = tie; },
          [&](NamedTensors& t) {
            Tensor emb;
            for (const auto& [n, x] : t)
              if (n == embedding) emb = x;
            ortformers::testing::drop_if(t, [](const std::string& n) { return n == "lm_head.weight"; });
            if (!tie) t.emplace_back("lm_head.weight", emb);
          });
      exporters::ExportOptions o;
      o.task = "text-generation-with-past";
      exporters::export_model(d->dir, d->dir / "onnx", o);
      logits.push_back(
          ORTModelForCausalLM::from_pretrained((d->dir / "onnx").string()).forward(ids).logits.to_float_vector());
      onnx::ModelProto model;
      std::ifstream in(d->dir / "onnx" / "model.onnx", std::ios::binary);
      ASSERT_TRUE(model.ParseFromIstream(&in));
      bool transpose_of_embedding = false;
      for (const auto& n : model.graph().node())
        if (n.op_type() == "Transpose" && n.input(0) == embedding) transpose_of_embedding = true;
      EXPECT_EQ(transpose_of_embedding, tie);
    }
    ASSERT_EQ(logits[0].size(), logits[1].size());
    double worst = 0;
    for (std::size_t i = 0; i < logits[0].size(); ++i)
      worst = std::max(worst, std::fabs(static_cast<double>(logits[0][i]) - logits[1][i]));
    EXPECT_LE(worst, 1e-5);
    // GPT-2's fixture is tied: the tied variant is the fixture itself.
    if (name == "gpt2-tiny") {
      EXPECT_LE(compare_logits(Tensor::from_vector(logits[0], {ids.dim(0), ids.dim(1), 50257}), e.at("logits")), kTol);
    }
  }
}
