// Native export of the encoder-decoder text fixtures (models/t5-tiny, models/bart-tiny) as
// text2text-generation-with-past against transformers 4.31 (reference/<name>.json): optimum 1.17's four files with
// its input / output names and dims; loaded by ORTModelForSeq2SeqLM in each decoder layout (merged, split, no
// cache), encoder outputs, decoder logits step by step with past, the whole decoder sequence at once and the
// DecoderStep within 1e-4; every `generate` case's sequences identical (scores within 1e-4); the export without
// past; T5's untied head; bad configs name the field.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>

#include "export/architectures/encoder_decoder_family.hpp"
#include "export/exporter.hpp"
#include "onnx_io.hpp"
#include "ortformers/core/error.hpp"
#include "ortformers/export/export.hpp"
#include "ortformers/generation/generate.hpp"
#include "ortformers/models/seq2seq_lm.hpp"
#include "ortformers/models/speech_seq2seq.hpp"
#include "support/derived_checkpoint.hpp"
#include "support/fixtures.hpp"
#include "support/generative_reference.hpp"

using namespace ortformers;
using namespace ortformers::models;
using namespace ortformers::testing;
namespace fs = std::filesystem;

namespace {

constexpr double kTol = 1e-4;

const Json& reference(const fs::path& fixtures, const std::string& name) {
  return cached_reference(fixtures, name);
}

// Our exports, made once per (model, task) in a temp folder removed at exit.
struct Exports {
  fs::path root;
  std::map<std::string, fs::path> dirs;
  std::mutex m;
  ~Exports() {
    std::error_code ec;
    if (!root.empty()) fs::remove_all(root, ec);
  }
};

fs::path exported(const fs::path& fixtures, const std::string& name,
                  const std::string& task = "text2text-generation-with-past") {
  static Exports e;
  std::lock_guard<std::mutex> lock(e.m);
  if (e.root.empty()) e.root = make_temp_dir("export-seq2seq");
  const std::string key = name + "-" + task;
  if (auto it = e.dirs.find(key); it != e.dirs.end()) return it->second;
  exporters::ExportOptions o;
  o.task = task;
  o.progress = false;
  exporters::export_model(fixtures / "models" / name, e.root / key, o);
  return e.dirs.emplace(key, e.root / key).first->second;
}

using Layout = DecoderLayoutCase;

ORTModelForSeq2SeqLM load(const fs::path& dir, const Layout& l) {
  Seq2SeqLMOptions o;
  o.use_cache = l.use_cache;
  o.use_merged = l.use_merged;
  return ORTModelForSeq2SeqLM::from_pretrained(dir.string(), o);
}

class ExportSeq2Seq : public ::testing::TestWithParam<std::string> {};

TEST_P(ExportSeq2Seq, FilesInputsAndOutputsAsOptimum) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const std::string name = GetParam();
  const fs::path dir = exported(fixtures, name);
  const Json& files = reference(fixtures, name).at("onnx").at(name).at("onnx_files");
  EXPECT_EQ(files.size(), 4u);
  for (const auto& [file, rec] : files.items()) {
    SCOPED_TRACE(file);
    ASSERT_TRUE(fs::exists(dir / file));
    check_onnx_io(dir / file, rec);
  }
  for (const char* f : {"config.json", "generation_config.json", "tokenizer_config.json"})
    EXPECT_TRUE(fs::exists(dir / f)) << f;
}

TEST_P(ExportSeq2Seq, ForwardMatchesTransformersInEveryLayout) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const std::string name = GetParam();
  const Json& ref = reference(fixtures, name);
  const fs::path dir = exported(fixtures, name);
  for (const Layout& layout : kDecoderLayouts) {
    SCOPED_TRACE(layout.name);
    const auto model = load(dir, layout);
    EXPECT_EQ(model.layout(), layout.expected);
    double enc_diff = 0, step_diff = 0, full_diff = 0;
    for (const auto& entry : ref.at("forward")) {
      const std::string id = entry.at("id").get<std::string>();
      const Tensor ids = int_tensor(entry.at("inputs").at("input_ids"));
      const Tensor mask = int_tensor(entry.at("inputs").at("attention_mask"));
      const EncoderOutput enc = model.encode({{"input_ids", ids}, {"attention_mask", mask}});
      const double d = max_abs_diff(enc.last_hidden_state, ref_tensor(entry.at("encoder_last_hidden_state")));
      EXPECT_LE(d, kTol) << id;
      enc_diff = std::max(enc_diff, d);
      const Json& steps = entry.at("steps");
      EncoderDecoderCache past;
      for (std::size_t s = 0; s < steps.size(); ++s) {
        if (!layout.use_cache && s > 0) break;
        const Tensor dec = int_tensor(steps[s].at("decoder_input_ids"));
        Seq2SeqLMOutput out = s == 0 ? model.forward(ids, mask, dec) : model.forward({}, {}, dec, past, &enc);
        const double sd = compare_logits(out.logits, steps[s].at("logits"));
        EXPECT_LE(sd, kTol) << id << " step " << s;
        step_diff = std::max(step_diff, sd);
        past = std::move(out.past_key_values);
      }
      if (layout.use_cache) {
        const Json& shapes = entry.at("present_shapes");
        ASSERT_EQ(past.size(), shapes.size());
        for (std::size_t l = 0; l < past.size(); ++l) {
          EXPECT_EQ(past[l].self_key.shape(), shapes[l][0].get<Shape>()) << id << " layer " << l;
          EXPECT_EQ(past[l].cross_key.shape(), shapes[l][2].get<Shape>()) << id << " layer " << l;
        }
      }
      const Tensor full_ids = int_tensor(entry.at("decoder_full").at("decoder_input_ids"));
      const double fd =
          compare_logits(model.forward({}, {}, full_ids, {}, &enc).logits, entry.at("decoder_full").at("logits"));
      EXPECT_LE(fd, kTol) << id << " decoder_full";
      full_diff = std::max(full_diff, fd);
      // The DecoderStep generate() drives.
      auto state = model.start(TensorMap{{"input_ids", ids}, {"attention_mask", mask}});
      for (std::size_t s = 0; s < steps.size(); ++s) {
        const Tensor logits = state->step(int_tensor(steps[s].at("decoder_input_ids")), {});
        const double sd = compare_logits(logits.reshape({logits.dim(0), 1, logits.dim(1)}), steps[s].at("logits"));
        EXPECT_LE(sd, kTol) << id << " DecoderStep step " << s;
        step_diff = std::max(step_diff, sd);
      }
    }
    std::cout << name << " export, " << layout.name << ": encoder max diff " << enc_diff << ", steps " << step_diff
              << ", decoder_full " << full_diff << "\n";
  }
}

// Every generate case on the merged decoder (optimum's default); under the sanitizers every other case.
TEST_P(ExportSeq2Seq, GenerateReproducesTransformers) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const std::string name = GetParam();
  const Json& ref = reference(fixtures, name);
  const auto model = load(exported(fixtures, name), kDecoderLayouts[0]);
  EXPECT_EQ(model.layout(), DecoderLayout::Merged);
  const auto defaults = generation::GenerationConfig::from_pretrained(fixtures / "models" / name);
  GenerateCaseDiffs worst;
  std::size_t cases = 0, index = 0;
  for (const auto& c : ref.at("generate")) {
#if defined(__SANITIZE_ADDRESS__)
    if (index++ % 2 == 1) continue;
#else
    ++index;
#endif
    const std::string id = c.at("id").get<std::string>() + "/" + c.at("input").get<std::string>();
    const auto& in = ref.at("generate_inputs").at(c.at("input").get<std::string>());
    generation::GenerationConfig config = defaults;
    const Json unused = config.update(c.at("kwargs"));
    ASSERT_TRUE(unused.empty()) << id << ": " << unused.dump();
    config.output_scores = true;
    config.return_dict_in_generate = true;
    const TensorMap inputs{{"input_ids", int_tensor(in.at("input_ids"))},
                           {"attention_mask", int_tensor(in.at("attention_mask"))}};
    const auto d = check_generate_case(generation::generate(model, inputs, config), c, id, kTol);
    worst.scores = std::max(worst.scores, d.scores);
    worst.sequences_scores = std::max(worst.sequences_scores, d.sequences_scores);
    ++cases;
  }
  EXPECT_GE(cases, 15u);
  std::cout << name << " export: " << cases << " generate cases, max |score diff| " << worst.scores
            << ", max |sequences_scores diff| " << worst.sequences_scores << "\n";
}

INSTANTIATE_TEST_SUITE_P(Fixtures, ExportSeq2Seq, ::testing::Values("t5-tiny", "bart-tiny"), [](const auto& info) {
  std::string n = info.param;
  std::replace(n.begin(), n.end(), '-', '_');
  return n;
});

// text2text-generation (no past): encoder_model.onnx + decoder_model.onnx with logits only; use_cache=false reproduces
// the first step's and decoder_full's logits.
TEST(ExportSeq2SeqNoPast, LogitsOnlyDecoder) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const fs::path dir = exported(fixtures, "t5-tiny", "text2text-generation");
  EXPECT_TRUE(fs::exists(dir / "encoder_model.onnx"));
  EXPECT_TRUE(fs::exists(dir / "decoder_model.onnx"));
  EXPECT_FALSE(fs::exists(dir / "decoder_with_past_model.onnx"));
  EXPECT_FALSE(fs::exists(dir / "decoder_model_merged.onnx"));
  const auto model = load(dir, kDecoderLayouts[2]);
  const Json& entry = reference(fixtures, "t5-tiny").at("forward")[1];
  const Tensor ids = int_tensor(entry.at("inputs").at("input_ids"));
  const Tensor mask = int_tensor(entry.at("inputs").at("attention_mask"));
  const auto out = model.forward(ids, mask, int_tensor(entry.at("decoder_full").at("decoder_input_ids")));
  EXPECT_TRUE(out.past_key_values.empty());
  EXPECT_LE(compare_logits(out.logits, entry.at("decoder_full").at("logits")), kTol);
}

// --opset 14 (optimum's default for BART and Whisper): LayerNormalization decomposed (T5 has none), same outputs.
TEST(ExportSeq2SeqOpset, Opset14MatchesTransformers) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  for (const std::string name : {"bart-tiny"}) {
    SCOPED_TRACE(name);
    const fs::path dir = make_temp_dir("export-seq2seq-opset14");
    exporters::ExportOptions o;
    o.task = "text2text-generation-with-past";
    o.opset = 14;
    exporters::export_model(fixtures / "models" / name, dir, o);
    const auto model = load(dir, kDecoderLayouts[0]);
    const Json& entry = reference(fixtures, name).at("forward")[1];
    const Tensor ids = int_tensor(entry.at("inputs").at("input_ids"));
    const Tensor mask = int_tensor(entry.at("inputs").at("attention_mask"));
    const auto enc = model.encode({{"input_ids", ids}, {"attention_mask", mask}});
    EXPECT_LE(max_abs_diff(enc.last_hidden_state, ref_tensor(entry.at("encoder_last_hidden_state"))), kTol);
    const auto out = model.forward({}, {}, int_tensor(entry.at("decoder_full").at("decoder_input_ids")), {}, &enc);
    EXPECT_LE(compare_logits(out.logits, entry.at("decoder_full").at("logits")), kTol);
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
}

// T5's LM head: tied (d_model ** -0.5 rescale, then the shared embeddings) vs untied with lm_head.weight = shared *
// d_model ** -0.5 (no rescale): the same logits.
TEST(ExportSeq2SeqT5, UntiedHeadHasNoRescale) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  auto d = derive(
      fixtures, "t5-tiny", [](Json& c) { c["tie_word_embeddings"] = false; },
      [](NamedTensors& t) {
        drop_if(t, [](const std::string& n) { return n == "lm_head.weight"; });
        Tensor shared;
        for (const auto& [n, x] : t)
          if (n == "shared.weight") shared = x;
        auto v = shared.to_float_vector();
        for (auto& x : v) x *= static_cast<float>(std::pow(32.0, -0.5));
        t.emplace_back("lm_head.weight", Tensor::from_vector(v, shared.shape()));
      });
  exporters::ExportOptions o;
  o.task = "text2text-generation-with-past";
  exporters::export_model(d->dir, d->dir / "onnx", o);
  const auto model = ORTModelForSeq2SeqLM::from_pretrained((d->dir / "onnx").string());
  const Json& entry = reference(fixtures, "t5-tiny").at("forward")[0];
  const Tensor ids = int_tensor(entry.at("inputs").at("input_ids"));
  const auto out = model.forward(ids, {}, int_tensor(entry.at("decoder_full").at("decoder_input_ids")));
  EXPECT_LE(compare_logits(out.logits, entry.at("decoder_full").at("logits")), kTol);
}

// The same export from pytorch_model.bin (t5-tiny has both files; torch.save keeps the tied names as views of one
// storage) as from model.safetensors.
TEST(ExportSeq2SeqT5, FromPytorchModelBin) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const fs::path dir = make_temp_dir("export-seq2seq-bin");
  for (const char* f : {"config.json", "generation_config.json", "pytorch_model.bin"})
    fs::create_symlink(fixtures / "models" / "t5-tiny" / f, dir / f);
  exporters::ExportOptions o;
  o.task = "text2text-generation-with-past";
  exporters::export_model(dir, dir / "onnx", o);
  const auto model = ORTModelForSeq2SeqLM::from_pretrained((dir / "onnx").string());
  EXPECT_EQ(model.layout(), DecoderLayout::Merged);
  const Json& entry = reference(fixtures, "t5-tiny").at("forward")[1];
  const Tensor ids = int_tensor(entry.at("inputs").at("input_ids"));
  const Tensor mask = int_tensor(entry.at("inputs").at("attention_mask"));
  const auto out = model.forward(ids, mask, int_tensor(entry.at("decoder_full").at("decoder_input_ids")));
  EXPECT_LE(compare_logits(out.logits, entry.at("decoder_full").at("logits")), kTol);
  std::error_code ec;
  fs::remove_all(dir, ec);
}

// The v1.1 variant (feed_forward_proj "gated-gelu": gelu_new(wi_0 x) * wi_1 x -> wo) exports and runs; with wi_1 = 0
// the feed-forward adds nothing, which must equal a model whose wo is zero.
TEST(ExportSeq2SeqT5, GatedGeluVariant) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  auto logits_of = [&](bool gated) {
    auto d = derive(
        fixtures, "t5-tiny", [&](Json& c) { c["feed_forward_proj"] = gated ? "gated-gelu" : "relu"; },
        [&](NamedTensors& t) {
          NamedTensors extra;
          for (auto& [n, x] : t) {
            const auto pos = n.find("DenseReluDense.wi.weight");
            if (pos != std::string::npos && gated) {
              const std::string base = n.substr(0, pos) + "DenseReluDense.";
              extra.emplace_back(base + "wi_0.weight", x);
              extra.emplace_back(
                  base + "wi_1.weight",
                  Tensor::from_vector(std::vector<float>(static_cast<std::size_t>(x.numel()), 0.0f), x.shape()));
            }
            if (n.find("DenseReluDense.wo.weight") != std::string::npos && !gated)
              x = Tensor::from_vector(std::vector<float>(static_cast<std::size_t>(x.numel()), 0.0f), x.shape());
          }
          if (gated) drop_if(t, [](const std::string& n) { return n.find("DenseReluDense.wi.weight") != n.npos; });
          for (auto& e : extra) t.push_back(std::move(e));
        });
    exporters::ExportOptions o;
    o.task = "text2text-generation-with-past";
    exporters::export_model(d->dir, d->dir / "onnx", o);
    const auto model = ORTModelForSeq2SeqLM::from_pretrained((d->dir / "onnx").string());
    const auto ids = Tensor::from_vector<std::int64_t>({37, 8, 2}, {1, 3});
    return model.forward(ids, {}, Tensor::from_vector<std::int64_t>({1100, 5}, {1, 2})).logits.to_float_vector();
  };
  const auto gated = logits_of(true), zero_ff = logits_of(false);
  ASSERT_EQ(gated.size(), zero_ff.size());
  double worst = 0;
  for (std::size_t i = 0; i < gated.size(); ++i)
    worst = std::max(worst, std::fabs(static_cast<double>(gated[i]) - zero_ff[i]));
  EXPECT_LE(worst, 1e-5);
}

// --quantize int8 / int4 on the encoder-decoder files: the plain graphs' weight MatMuls are quantised (dynamic int8
// MatMulInteger / MatMulNBits), all four files load, the merged and split decoders agree, and the logits stay
// close to the float ones (these tiny random models lose much more to int4 than real ones: sanity bounds).
TEST(ExportSeq2SeqQuantized, Int8AndInt4) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
#if defined(__SANITIZE_ADDRESS__)
  const std::vector<std::string> names{"t5-tiny"};  // BART's 50k-row head is slow to quantise under the sanitizers
#else
  const std::vector<std::string> names{"t5-tiny", "bart-tiny"};
#endif
  for (const std::string& name : names) {
    const Json& entry = reference(fixtures, name).at("forward")[1];
    const Tensor ids = int_tensor(entry.at("inputs").at("input_ids"));
    const Tensor mask = int_tensor(entry.at("inputs").at("attention_mask"));
    const Tensor dec = int_tensor(entry.at("decoder_full").at("decoder_input_ids"));
    const auto reference_logits = load(exported(fixtures, name), kDecoderLayouts[0]).forward(ids, mask, dec).logits;
    const auto ref = reference_logits.to_float_vector();
    const auto [lo, hi] = std::minmax_element(ref.begin(), ref.end());
    for (const std::string scheme : {"int8", "int8_block", "int4"}) {
      SCOPED_TRACE(name + " " + scheme);
      const fs::path dir = make_temp_dir("export-seq2seq-" + scheme);
      exporters::ExportOptions o;
      o.task = "text2text-generation-with-past";
      o.quantize = scheme;
      exporters::export_model(fixtures / "models" / name, dir, o);
      int quantized = 0;
      for (const char* f : {"encoder_model.onnx", "decoder_model.onnx", "decoder_with_past_model.onnx"}) {
        onnx::ModelProto m;
        std::ifstream in(dir / f, std::ios::binary);
        ASSERT_TRUE(m.ParseFromIstream(&in)) << f;
        for (const auto& n : m.graph().node())
          quantized +=
              n.op_type() == "MatMulInteger" || n.op_type() == "DynamicQuantizeMatMul" || n.op_type() == "MatMulNBits";
      }
      EXPECT_GT(quantized, 0);
      const auto merged = load(dir, kDecoderLayouts[0]);
      const auto split = load(dir, kDecoderLayouts[1]);
      const auto a = merged.forward(ids, mask, dec).logits.to_float_vector();
      const auto b = split.forward(ids, mask, dec).logits.to_float_vector();
      ASSERT_EQ(a.size(), b.size());
      double merged_vs_split = 0;
      for (std::size_t i = 0; i < a.size(); ++i)
        merged_vs_split = std::max(merged_vs_split, std::fabs(static_cast<double>(a[i]) - b[i]));
      EXPECT_LE(merged_vs_split, 1e-4);  // same weights; MatMulNBits inside the If may take another kernel path
      double worst = 0;
      for (std::size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::fabs(static_cast<double>(a[i]) - ref[i]));
      std::cout << name << " " << scheme << ": " << quantized << " quantized MatMuls, max logit diff " << worst
                << " (float range " << (*hi - *lo) << ")\n";
      EXPECT_GT(worst, 0.0);
      EXPECT_LT(worst, (scheme == "int4" ? 0.5 : 0.1) * (*hi - *lo));
      std::error_code ec;
      fs::remove_all(dir, ec);
    }
  }
}

// optimum's ORTModelForSeq2SeqLM / ORTModelForSpeechSeq2Seq.from_pretrained(checkpoint, export=True): exported
// natively into $ORTFORMERS_CACHE with the -with-past task and loaded with the merged decoder.
TEST(ExportSeq2SeqFromPretrained, ExportTrueLoadsTheCheckpoint) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const fs::path cache = make_temp_dir("export-seq2seq-cache");
  const char* old = std::getenv("ORTFORMERS_CACHE");
  const std::string saved = old != nullptr ? old : "";
  ::setenv("ORTFORMERS_CACHE", cache.c_str(), 1);
  for (const std::string name : {"t5-tiny", "bart-tiny"}) {
    SCOPED_TRACE(name);
    Seq2SeqLMOptions o;
    o.base.export_model = true;
    const auto m = ORTModelForSeq2SeqLM::from_pretrained((fixtures / "models" / name).string(), o);
    EXPECT_EQ(m.layout(), DecoderLayout::Merged);
    const Json& entry = reference(fixtures, name).at("forward")[0];
    const auto out = m.forward(int_tensor(entry.at("inputs").at("input_ids")), {},
                               int_tensor(entry.at("decoder_full").at("decoder_input_ids")));
    EXPECT_LE(compare_logits(out.logits, entry.at("decoder_full").at("logits")), kTol);
  }
  SpeechSeq2SeqOptions w;
  w.base.export_model = true;
  const auto whisper = ORTModelForSpeechSeq2Seq::from_pretrained((fixtures / "models" / "whisper-tiny").string(), w);
  EXPECT_EQ(whisper.layout(), DecoderLayout::Merged);
  EXPECT_TRUE(fs::exists(whisper.encoder_path()));
  if (old != nullptr)
    ::setenv("ORTFORMERS_CACHE", saved.c_str(), 1);
  else
    ::unsetenv("ORTFORMERS_CACHE");
  std::error_code ec;
  fs::remove_all(cache, ec);
}

// transformers' _relative_position_bucket on hand-computed values (t5-small's 32 buckets / 128).
TEST(ExportSeq2SeqT5, RelativePositionBuckets) {
  const auto enc = exporters::relative_position_buckets({true, 32, 128, 1});
  const auto at = [](const std::vector<std::int64_t>& b, std::int64_t rel) {
    return b[static_cast<std::size_t>(rel + 128)];
  };
  EXPECT_EQ(at(enc, 0), 0);
  EXPECT_EQ(at(enc, -1), 1);
  EXPECT_EQ(at(enc, 1), 17);
  EXPECT_EQ(at(enc, -7), 7);
  EXPECT_EQ(at(enc, -8), 8);        // max_exact: 8 + int(log(1) ...) = 8
  EXPECT_EQ(at(enc, -16), 10);      // 8 + int(log(2) / log(16) * 8) = 10
  EXPECT_EQ(at(enc, 20), 16 + 10);  // 16 + 8 + int(log(2.5) / log(16) * 8 = 2.64)
  EXPECT_EQ(at(enc, -128), 15);
  const auto dec = exporters::relative_position_buckets({false, 32, 128, 1});
  EXPECT_EQ(at(dec, 5), 0);  // a later key: bucket 0 (masked by the causal mask anyway)
  EXPECT_EQ(at(dec, -15), 15);
  EXPECT_EQ(at(dec, -16), 16);
  EXPECT_EQ(at(dec, -40), 16 + 7);  // int(log(2.5) / log(8) * 16 = 7.05)
  EXPECT_EQ(at(dec, -128), 31);
}

TEST(ExportSeq2SeqErrors, BadConfigsNameTheField) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const fs::path out = make_temp_dir("export-seq2seq-bad");
  auto expect_error = [&](const std::function<void(Json&)>& edit, const std::string& needle,
                          const std::string& name = "t5-tiny") {
    auto d = derive(fixtures, name, edit, [](NamedTensors&) {});
    exporters::ExportOptions o;
    o.task = "text2text-generation-with-past";
    try {
      exporters::export_model(d->dir, out / "x", o);
      ADD_FAILURE() << "no error for " << needle;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  expect_error([](Json& c) { c["feed_forward_proj"] = "gated-gelu-x"; }, "feed_forward_proj");
  expect_error([](Json& c) { c["feed_forward_proj"] = "softsign"; }, "softsign");
  expect_error([](Json& c) { c["d_kv"] = 0; }, "d_kv");
  expect_error([](Json& c) { c.erase("num_heads"); }, "num_heads");
  expect_error([](Json& c) { c["d_model"] = 48; }, "shared.weight");
  expect_error([](Json& c) { c["decoder_attention_heads"] = 3; }, "d_model 32", "bart-tiny");
  expect_error([](Json& c) { c["normalize_before"] = true; }, "normalize_before", "bart-tiny");
  expect_error([](Json& c) { c["max_position_embeddings"] = 64; }, "embed_positions", "bart-tiny");
  expect_error([](Json& c) { c["activation_function"] = "gelu_10"; }, "gelu_10", "bart-tiny");
  // A task of another family, --optimize.
  exporters::ExportOptions o;
  o.task = "text-generation-with-past";
  EXPECT_THROW(exporters::export_model(fixtures / "models" / "t5-tiny", out / "y", o), UnsupportedError);
  o.task = "text2text-generation-with-past";
  o.optimize = true;
  EXPECT_THROW(exporters::export_model(fixtures / "models" / "t5-tiny", out / "z", o), UnsupportedError);
  // The task is inferred from architectures (T5ForConditionalGeneration, use_cache true).
  EXPECT_EQ(exporters::infer_task(fixtures / "models" / "t5-tiny"), "text2text-generation-with-past");
  std::error_code ec;
  fs::remove_all(out, ec);
}

}  // namespace
