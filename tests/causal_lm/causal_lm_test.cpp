// ORTModelForCausalLM against transformers 4.31 (reference/gpt2-tiny.json, reference/llama-tiny.json): forward
// logits without and with past, step by step and on a left-padded batch, for optimum 1.17's default export
// (model.onnx with past) and the legacy merged / split layouts; the DecoderStep (start / step / select_rows) with
// and without IO binding; a greedy loop that reproduces generate()'s sequences; bad input.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>

#include "ortformers/core/json.hpp"
#include "ortformers/models/causal_lm.hpp"
#include "support/cli.hpp"
#include "support/fixtures.hpp"
#include "support/generative_reference.hpp"

using namespace ortformers;
using namespace ortformers::models;
using ortformers::testing::compare_logits;
using ortformers::testing::int_tensor;
namespace fs = std::filesystem;

namespace {

constexpr double kTol = 1e-4;

struct Case {
  const char* name;
  const char* ref;  // reference/<ref>.json
  const char* dir;  // onnx/<dir>
  std::optional<bool> use_merged;
  CausalLMLayout layout;
  bool padded;  // the graph takes position_ids: the left-padded batch entries apply
};

const Case kCases[] = {
    {"gpt2_model_onnx", "gpt2-tiny", "gpt2-tiny", std::nullopt, CausalLMLayout::Single, true},
    {"llama_model_onnx", "llama-tiny", "llama-tiny", std::nullopt, CausalLMLayout::Single, true},
    {"gpt2_legacy_merged", "gpt2-tiny", "gpt2-tiny-legacy", std::nullopt, CausalLMLayout::Merged, false},
    {"gpt2_legacy_split", "gpt2-tiny", "gpt2-tiny-legacy", false, CausalLMLayout::Split, false},
};

const Json& reference(const fs::path& fixtures, const std::string& name) {
  static std::map<std::string, Json> cache;
  auto it = cache.find(name);
  if (it == cache.end()) it = cache.emplace(name, read_json_file(fixtures / "reference" / (name + ".json"))).first;
  return it->second;
}

const Json& forward_entry(const Json& ref, const std::string& id) {
  for (const auto& e : ref.at("forward"))
    if (e.at("id") == id) return e;
  throw std::runtime_error("no forward entry " + id);
}

ORTModelForCausalLM load(const fs::path& fixtures, const Case& c, bool io_binding = true) {
  CausalLMOptions o;
  o.use_merged = c.use_merged;
  o.io_binding = io_binding;
  return ORTModelForCausalLM::from_pretrained((fixtures / "onnx" / c.dir).string(), o);
}

std::vector<std::int64_t> argmax_rows(const Tensor& logits) {
  const std::int64_t rows = logits.dim(0), vocab = logits.dim(1);
  const auto v = logits.span<float>();
  std::vector<std::int64_t> out;
  for (std::int64_t r = 0; r < rows; ++r) {
    std::int64_t best = 0;
    for (std::int64_t i = 1; i < vocab; ++i)
      if (v[r * vocab + i] > v[r * vocab + best]) best = i;
    out.push_back(best);
  }
  return out;
}

class CausalLM : public ::testing::TestWithParam<Case> {};
class CausalLMStepTest : public ::testing::TestWithParam<std::tuple<Case, bool>> {};

}  // namespace

TEST_P(CausalLM, LoadsTheLayout) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const Case& c = GetParam();
  const auto m = load(fixtures, c);
  const Json& ref = reference(fixtures, c.ref);
  EXPECT_EQ(m.layout(), c.layout) << layout_name(m.layout());
  EXPECT_TRUE(m.use_cache());
  EXPECT_EQ(m.use_merged(), c.layout == CausalLMLayout::Merged);
  EXPECT_FALSE(m.is_encoder_decoder());
  EXPECT_EQ(m.vocab_size(), ref.at("config").at("vocab_size").get<std::int64_t>());
  const auto& cfg = ref.at("config");
  EXPECT_EQ(m.max_positions(), cfg.contains("n_positions") ? cfg.at("n_positions").get<std::int64_t>()
                                                           : cfg.at("max_position_embeddings").get<std::int64_t>());
  const auto present = forward_entry(ref, "full").at("present_shapes");
  EXPECT_EQ(m.num_layers(), static_cast<std::int64_t>(present.size()));
  EXPECT_EQ(m.num_key_value_heads(), present[0][0][1].get<std::int64_t>());
  EXPECT_EQ(m.head_dim(), present[0][0][3].get<std::int64_t>());
  EXPECT_EQ(m.cache_dtype(), DType::Float32);
  EXPECT_EQ(m.takes_position_ids(), c.padded);
  if (c.layout == CausalLMLayout::Split) {
    EXPECT_EQ(m.model_path().filename(), "decoder_model.onnx");
    EXPECT_EQ(m.decoder_with_past_path().filename(), "decoder_with_past_model.onnx");
  }
}

TEST_P(CausalLM, ForwardFull) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const Case& c = GetParam();
  const auto m = load(fixtures, c);
  const Json& e = forward_entry(reference(fixtures, c.ref), "full");
  const Tensor ids = int_tensor(e.at("inputs").at("input_ids"));
  const Tensor mask = int_tensor(e.at("inputs").at("attention_mask"));
  // position_ids computed from the mask, and given explicitly: the same logits.
  for (const Tensor& pos : {Tensor{}, int_tensor(e.at("inputs").at("position_ids"))}) {
    const auto out = m.forward(ids, mask, pos);
    EXPECT_LE(compare_logits(out.logits, e.at("logits")), kTol);
    ASSERT_EQ(out.past_key_values.size(), e.at("present_shapes").size());
    for (std::size_t l = 0; l < out.past_key_values.size(); ++l) {
      EXPECT_EQ(out.past_key_values[l].key.shape(), e.at("present_shapes")[l][0].get<Shape>());
      EXPECT_EQ(out.past_key_values[l].value.shape(), e.at("present_shapes")[l][1].get<Shape>());
    }
  }
  // attention_mask omitted: all ones, as for this unpadded prompt.
  EXPECT_LE(compare_logits(m.forward(ids).logits, e.at("logits")), kTol);
}

TEST_P(CausalLM, ForwardStepByStepWithPast) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const Case& c = GetParam();
  const auto m = load(fixtures, c);
  const Json& ref = reference(fixtures, c.ref);
  for (const char* id : {"step_by_step", "batch_left_padded"}) {
    if (std::string(id) == "batch_left_padded" && !c.padded) continue;  // legacy graphs: no position_ids
    SCOPED_TRACE(id);
    PastKeyValues past;
    int n = 0;
    for (const auto& st : forward_entry(ref, id).at("steps")) {
      SCOPED_TRACE("step " + std::to_string(n++));
      const std::int64_t past_len = past.empty() ? 0 : past[0].key.dim(2);
      EXPECT_EQ(past_len, st.at("past_length").get<std::int64_t>());
      auto out = m.forward(int_tensor(st.at("input_ids")), int_tensor(st.at("attention_mask")), {}, past);
      EXPECT_LE(compare_logits(out.logits, st.at("logits")), kTol);
      past = std::move(out.past_key_values);
    }
    EXPECT_GE(n, 3);
  }
}

TEST_P(CausalLMStepTest, StepMatchesReference) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const auto& [c, io_binding] = GetParam();
  const auto m = load(fixtures, c, io_binding);
  const Json& ref = reference(fixtures, c.ref);
  for (const char* id : {"step_by_step", "batch_left_padded"}) {
    if (std::string(id) == "batch_left_padded" && !c.padded) continue;
    SCOPED_TRACE(id);
    auto state = m.start();
    EXPECT_EQ(state->rows(), 0);
    EXPECT_EQ(state->past_length(), 0);
    int n = 0;
    for (const auto& st : forward_entry(ref, id).at("steps")) {
      SCOPED_TRACE("step " + std::to_string(n++));
      EXPECT_EQ(state->past_length(), st.at("past_length").get<std::int64_t>());
      const Tensor ids = int_tensor(st.at("input_ids"));
      const Tensor logits = state->step(ids, int_tensor(st.at("attention_mask")));
      ASSERT_EQ(logits.dtype(), DType::Float32);
      ASSERT_EQ(logits.shape(), (Shape{ids.dim(0), m.vocab_size()}));
      EXPECT_LE(compare_logits(logits.reshape({ids.dim(0), 1, m.vocab_size()}), st.at("logits")), kTol);
      EXPECT_EQ(state->rows(), ids.dim(0));
    }
  }
}

// select_rows: duplicated / reordered rows continue exactly as the rows they copy.
TEST_P(CausalLMStepTest, SelectRowsReordersAndExpands) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const auto& [c, io_binding] = GetParam();
  const auto m = load(fixtures, c, io_binding);
  const Json& ref = reference(fixtures, c.ref);
  // Unpadded graphs (no position_ids): duplicate the single prompt; others: the padded batch.
  const Json& in = ref.at("generate_inputs").at(c.padded ? "batch" : "input0");
  const Tensor ids = int_tensor(in.at("input_ids")), mask = int_tensor(in.at("attention_mask"));
  const std::int64_t b = ids.dim(0), len = ids.dim(1), vocab = m.vocab_size();
  auto plain = m.start();
  auto next = argmax_rows(plain->step(ids, mask));
  std::vector<std::int64_t> sel =
      b == 1 ? std::vector<std::int64_t>{0, 0, 0} : std::vector<std::int64_t>{2, 0, 0, 1, 2};
  auto sel_state = m.start();
  sel_state->step(ids, mask);
  sel_state->select_rows(sel);
  EXPECT_EQ(sel_state->rows(), static_cast<std::int64_t>(sel.size()));
  EXPECT_EQ(sel_state->past_length(), len);
  // Two more steps on both states; the selected state's row i must equal the plain state's row sel[i].
  std::vector<std::int64_t> mask_plain = mask.to_vector<std::int64_t>();
  std::int64_t total = len;
  for (int step = 0; step < 2; ++step) {
    std::vector<std::int64_t> grown;
    for (std::int64_t r = 0; r < b; ++r) {
      grown.insert(grown.end(), mask_plain.begin() + r * total, mask_plain.begin() + (r + 1) * total);
      grown.push_back(1);
    }
    mask_plain = grown;
    ++total;
    std::vector<std::int64_t> sel_mask, sel_ids;
    for (auto r : sel) {
      sel_mask.insert(sel_mask.end(), mask_plain.begin() + r * total, mask_plain.begin() + (r + 1) * total);
      sel_ids.push_back(next[r]);
    }
    const auto n = static_cast<std::int64_t>(sel.size());
    const Tensor a = plain->step(Tensor::from_vector(next, {b, 1}), Tensor::from_vector(mask_plain, {b, total}));
    const Tensor s = sel_state->step(Tensor::from_vector(sel_ids, {n, 1}), Tensor::from_vector(sel_mask, {n, total}));
    const auto av = a.span<float>(), sv = s.span<float>();
    double worst = 0;
    for (std::int64_t i = 0; i < n; ++i)
      for (std::int64_t v = 0; v < vocab; ++v)
        worst = std::max(worst, static_cast<double>(std::fabs(sv[i * vocab + v] - av[sel[i] * vocab + v])));
    EXPECT_LE(worst, 1e-5) << "step " << step;
    next = argmax_rows(a);
  }
  // Dropping rows: keep the last one only.
  sel_state->select_rows(std::vector<std::int64_t>{static_cast<std::int64_t>(sel.size()) - 1});
  EXPECT_EQ(sel_state->rows(), 1);
}

// A greedy loop through start()/step() reproduces transformers' generate() "greedy" sequences.
TEST_P(CausalLMStepTest, GreedyLoopReproducesGenerate) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const auto& [c, io_binding] = GetParam();
  const auto m = load(fixtures, c, io_binding);
  const Json& ref = reference(fixtures, c.ref);
  const auto eos = ref.at("generation_config").at("eos_token_id").get<std::int64_t>();
  const auto pad = ref.at("generation_config").at("pad_token_id").get<std::int64_t>();
  int checked = 0;
  for (const auto& g : ref.at("generate")) {
    if (g.at("id") != "greedy") continue;
    const std::string input = g.at("input");
    if (input == "batch" && !c.padded) continue;
    SCOPED_TRACE(input);
    const Json& in = ref.at("generate_inputs").at(input);
    const Tensor ids = int_tensor(in.at("input_ids"));
    std::vector<std::int64_t> mask = int_tensor(in.at("attention_mask")).to_vector<std::int64_t>();
    const std::int64_t b = ids.dim(0);
    std::int64_t total = ids.dim(1);
    std::vector<std::vector<std::int64_t>> seqs(b);
    for (std::int64_t r = 0; r < b; ++r) seqs[r] = in.at("input_ids")[r].get<std::vector<std::int64_t>>();
    std::vector<bool> finished(b, false);
    auto state = m.start();
    Tensor step_ids = ids;
    const auto max_new = g.at("kwargs").at("max_new_tokens").get<int>();
    for (int i = 0; i < max_new; ++i) {
      auto next = argmax_rows(state->step(step_ids, Tensor::from_vector(mask, {b, total})));
      std::vector<std::int64_t> grown;
      for (std::int64_t r = 0; r < b; ++r) {
        if (finished[r]) next[r] = pad;
        finished[r] = finished[r] || next[r] == eos;
        seqs[r].push_back(next[r]);
        grown.insert(grown.end(), mask.begin() + r * total, mask.begin() + (r + 1) * total);
        grown.push_back(1);
      }
      mask = std::move(grown);
      ++total;
      step_ids = Tensor::from_vector(next, {b, 1});
      if (std::all_of(finished.begin(), finished.end(), [](bool f) { return f; })) break;
    }
    EXPECT_EQ(seqs, g.at("sequences").get<std::vector<std::vector<std::int64_t>>>());
    ++checked;
  }
  EXPECT_EQ(checked, c.padded ? 2 : 1);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, CausalLM, ::testing::ValuesIn(kCases),
                         [](const auto& info) { return std::string(info.param.name); });
INSTANTIATE_TEST_SUITE_P(Fixtures, CausalLMStepTest, ::testing::Combine(::testing::ValuesIn(kCases), ::testing::Bool()),
                         [](const auto& info) {
                           return std::string(std::get<0>(info.param).name) +
                                  (std::get<1>(info.param) ? "_io_binding" : "_ort_presents");
                         });

// use_cache = false: decoder_model.onnx (legacy) or model.onnx fed an empty past; step() re-runs the sequence.
TEST(CausalLMNoCache, StepRerunsTheSequence) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const Json& ref = reference(fixtures, "gpt2-tiny");
  for (const char* dir : {"gpt2-tiny-legacy", "gpt2-tiny"}) {
    SCOPED_TRACE(dir);
    CausalLMOptions o;
    o.use_cache = false;
    const auto m = ORTModelForCausalLM::from_pretrained((fixtures / "onnx" / dir).string(), o);
    EXPECT_EQ(m.layout(), CausalLMLayout::NoCache);
    EXPECT_FALSE(m.use_cache());
    auto state = m.start();
    for (const auto& st : forward_entry(ref, "step_by_step").at("steps")) {
      const Tensor ids = int_tensor(st.at("input_ids"));
      const Tensor logits = state->step(ids, int_tensor(st.at("attention_mask")));
      EXPECT_LE(compare_logits(logits.reshape({1, 1, m.vocab_size()}), st.at("logits")), kTol);
    }
    const Json& full = forward_entry(ref, "full");
    const auto out = m.forward(int_tensor(full.at("inputs").at("input_ids")));
    EXPECT_LE(compare_logits(out.logits, full.at("logits")), kTol);
    EXPECT_TRUE(out.past_key_values.empty());
  }
}

// --- bad input ------------------------------------------------------------------------------------------------

TEST(CausalLMErrors, BadInputsAreInvalidArgument) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const auto m = ORTModelForCausalLM::from_pretrained((fixtures / "onnx" / "gpt2-tiny").string());
  const auto ids = Tensor::from_values<std::int64_t>({15496, 11, 616}, {1, 3});
  const auto expect_invalid = [](const auto& fn, const std::string& needle) {
    try {
      fn();
      ADD_FAILURE() << "no error (expected one mentioning '" << needle << "')";
    } catch (const InvalidArgument& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  expect_invalid([&] { m.forward(Tensor::zeros(DType::Int64, {1, 0})); }, "empty");
  expect_invalid([&] { m.forward(Tensor::zeros(DType::Int64, {3})); }, "input_ids must be [batch");
  expect_invalid([&] { m.forward(Tensor::zeros(DType::Float32, {1, 3})); }, "int64");
  expect_invalid([&] { m.forward(ids, Tensor::zeros(DType::Int64, {1, 4})); }, "attention_mask has shape [1, 4]");
  expect_invalid([&] { m.forward(ids, {}, Tensor::zeros(DType::Int64, {1, 2})); }, "position_ids");
  expect_invalid([&] { m.forward(Tensor::from_values<std::int64_t>({50257}, {1, 1})); }, "token id 50257");
  expect_invalid([&] { m.forward(Tensor::from_values<std::int64_t>({-1}, {1, 1})); }, "token id -1");
  expect_invalid([&] { m.forward(Tensor::zeros(DType::Int64, {1, 129})); }, "maximum of 128 positions");
  const auto out = m.forward(ids);
  PastKeyValues one_layer(out.past_key_values.begin(), out.past_key_values.begin() + 1);
  expect_invalid([&] { m.forward(Tensor::zeros(DType::Int64, {1, 1}), {}, {}, one_layer); }, "layers");
  // The mask must cover past + new tokens.
  expect_invalid(
      [&] {
        m.forward(Tensor::zeros(DType::Int64, {1, 1}), Tensor::zeros(DType::Int64, {1, 1}), {}, out.past_key_values);
      },
      "3 cached + 1 new");
  expect_invalid(
      [&] {
        m.forward(Tensor::zeros(DType::Int64, {2, 1}), {}, {}, out.past_key_values);
      },
      "past_key_values[0] has shape");

  auto state = m.start();
  expect_invalid([&] { state->select_rows(std::vector<std::int64_t>{0}); }, "no rows before its first step");
  expect_invalid(
      [&] {
        state->step(Tensor::zeros(DType::Int64, {1, 0}), Tensor::zeros(DType::Int64, {1, 0}));
      },
      "empty");
  expect_invalid([&] { state->step(Tensor::zeros(DType::Int64, {1, 129}), {}); }, "exceeds the model's maximum");
  state->step(ids, Tensor::from_values<std::int64_t>({1, 1, 1}, {1, 3}));
  expect_invalid(
      [&] {
        state->step(Tensor::zeros(DType::Int64, {2, 1}), Tensor::zeros(DType::Int64, {2, 4}));
      },
      "cache holds 1");
  expect_invalid(
      [&] {
        state->step(Tensor::zeros(DType::Int64, {1, 1}), Tensor::zeros(DType::Int64, {1, 3}));
      },
      "attention_mask has shape [1, 3]");
  expect_invalid([&] { state->select_rows(std::vector<std::int64_t>{0, 1}); }, "row 1 out of range [0, 1)");
  expect_invalid([&] { state->select_rows(std::vector<std::int64_t>{-1}); }, "row -1");
  // A failed call leaves the state usable.
  EXPECT_EQ(state->past_length(), 3);
  EXPECT_EQ(
      state->step(Tensor::zeros(DType::Int64, {1, 1}), Tensor::from_values<std::int64_t>({1, 1, 1, 1}, {1, 4})).shape(),
      (Shape{1, m.vocab_size()}));
}

TEST(CausalLMErrors, FileChoiceErrorsNameTheFiles) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const fs::path legacy = fixtures / "onnx" / "gpt2-tiny-legacy";
  const auto expect_error = [](const auto& fn, const std::string& needle) {
    try {
      fn();
      ADD_FAILURE() << "no error (expected one mentioning '" << needle << "')";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  CausalLMOptions merged;
  merged.use_merged = true;
  expect_error([&] { ORTModelForCausalLM::from_pretrained((fixtures / "onnx" / "gpt2-tiny").string(), merged); },
               "decoder_model_merged.onnx");
  CausalLMOptions bad;
  bad.use_cache = false;
  bad.use_merged = true;
  expect_error([&] { ORTModelForCausalLM::from_pretrained(legacy.string(), bad); }, "use_cache=False, use_merged=True");
  // A folder with decoder_model.onnx only (a symbolic link to the fixture): the split layout names the missing file.
  const fs::path dir = ortformers::testing::make_temp_dir("causal_lm_split");
  fs::create_symlink(legacy / "config.json", dir / "config.json");
  fs::create_symlink(legacy / "decoder_model.onnx", dir / "decoder_model.onnx");
  expect_error([&] { ORTModelForCausalLM::from_pretrained(dir.string()); }, "decoder_with_past_model.onnx");
  // With use_cache=false the same folder loads.
  CausalLMOptions no_cache;
  no_cache.use_cache = false;
  EXPECT_EQ(ORTModelForCausalLM::from_pretrained(dir.string(), no_cache).layout(), CausalLMLayout::NoCache);
  // decoder_model.onnx chosen by file_name with use_cache=true and no with-past graph beside it.
  CausalLMOptions by_name;
  by_name.base.file_name = "decoder_model.onnx";
  expect_error([&] { ORTModelForCausalLM::from_pretrained(dir.string(), by_name); }, "has no past_key_values inputs");
  // file_name picks one graph of the legacy folder.
  by_name.base.file_name = "decoder_model_merged.onnx";
  EXPECT_EQ(ORTModelForCausalLM::from_pretrained(legacy.string(), by_name).layout(), CausalLMLayout::Merged);
  by_name.base.file_name = "decoder_with_past_model.onnx";
  EXPECT_EQ(ORTModelForCausalLM::from_pretrained(legacy.string(), by_name).layout(), CausalLMLayout::Split);
  // No graph at all.
  const fs::path empty = ortformers::testing::make_temp_dir("causal_lm_empty");
  fs::create_symlink(legacy / "config.json", empty / "config.json");
  expect_error([&] { ORTModelForCausalLM::from_pretrained(empty.string()); }, "no causal-LM ONNX file");
  fs::remove_all(dir);
  fs::remove_all(empty);
}

// `ortformers forward --model onnx/gpt2-tiny` runs ORTModelForCausalLM (the graph takes past_key_values): the first
// step without past, then one step with the presents fed back.
TEST(CausalLMCli, ForwardRunsTheCausalLM) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const Json& e = forward_entry(reference(fixtures, "gpt2-tiny"), "step_by_step");
  const fs::path dir = ortformers::testing::make_temp_dir("causal_lm_cli");
  const auto tensor_json = [](const Json& rows) {
    const Tensor t = int_tensor(rows);
    return Json{{"shape", t.shape()}, {"data", t.to_vector<std::int64_t>()}};
  };
  const Json& s0 = e.at("steps")[0];
  write_text_file(dir / "in.json", Json{{"input_ids", tensor_json(s0.at("input_ids"))},
                                        {"attention_mask", tensor_json(s0.at("attention_mask"))}}
                                       .dump());
  const auto q = ortformers::testing::shell_quote;
  auto r = ortformers::testing::run_cli("forward --model " + q((fixtures / "onnx" / "gpt2-tiny").string()) +
                                        " --inputs " + q((dir / "in.json").string()));
  ASSERT_EQ(r.status, 0) << r.raw;
  ASSERT_EQ(r.lines.size(), 1u);
  const Json& out = r.lines[0];
  const auto logits = [](const Json& j) {
    return Tensor::from_vector(j.at("data").get<std::vector<float>>(), j.at("shape").get<Shape>());
  };
  EXPECT_LE(compare_logits(logits(out.at("logits")), s0.at("logits")), kTol);
  // Step 1 with the printed presents as past.
  const Json& s1 = e.at("steps")[1];
  Json in1{{"input_ids", tensor_json(s1.at("input_ids"))}, {"attention_mask", tensor_json(s1.at("attention_mask"))}};
  for (int l = 0; l < 2; ++l) {
    for (const char* kv : {"key", "value"}) {
      Json t = out.at("present." + std::to_string(l) + "." + kv);
      t["dtype"] = "float32";
      in1["past_key_values." + std::to_string(l) + "." + kv] = t;
    }
  }
  write_text_file(dir / "in1.json", in1.dump());
  r = ortformers::testing::run_cli("forward --model " + q((fixtures / "onnx" / "gpt2-tiny").string()) + " --inputs " +
                                   q((dir / "in1.json").string()));
  ASSERT_EQ(r.status, 0) << r.raw;
  EXPECT_LE(compare_logits(logits(r.lines.at(0).at("logits")), s1.at("logits")), kTol);
  fs::remove_all(dir);
}
