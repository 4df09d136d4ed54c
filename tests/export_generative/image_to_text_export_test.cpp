// Native export of the image-to-text fixtures (models/vit-gpt2-tiny: ViT encoder + GPT-2 decoder with
// cross-attention; models/pix2struct-tiny) against transformers 4.31 (reference/<name>.json): our
// image-to-text-with-past folders have optimum 1.17.1's files, inputs and outputs (encoder_model.onnx,
// decoder_model.onnx, decoder_with_past_model.onnx, decoder_model_merged.onnx), load in ORTModelForVision2Seq /
// ORTModelForPix2Struct with each decoder layout and reproduce the encoder outputs, the decoder logits without and
// with past and the whole decoder sequence, and every `generate` case's sequences; the image-to-text task without
// past; the task inferred; bad configs and options name what is wrong.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>

#include "export/exporter.hpp"
#include "onnx_io.hpp"
#include "ortformers/core/error.hpp"
#include "ortformers/export/export.hpp"
#include "ortformers/generation/generate.hpp"
#include "ortformers/models/vision2seq.hpp"
#include "support/derived_checkpoint.hpp"
#include "support/fixtures.hpp"
#include "support/generative_reference.hpp"
#include "support/image_to_text_reference.hpp"

using namespace ortformers;
using namespace ortformers::models;
using namespace ortformers::testing;
namespace fs = std::filesystem;

namespace {

// vit-gpt2-tiny's logits with past: ONNX Runtime itself differs from PyTorch by up to 1.38e-4 there (CHECKS.md, on
// optimum's own files), so 2e-4; 1e-4 everywhere else.
double tolerance(const std::string& name, bool with_past) {
  return name == "vit-gpt2-tiny" && with_past ? 2e-4 : 1e-4;
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

fs::path exported(const fs::path& fixtures, const std::string& name, const std::string& task) {
  static Exports e;
  std::lock_guard<std::mutex> lock(e.m);
  if (e.root.empty()) e.root = make_temp_dir("export-image-to-text");
  const std::string key = name + "-" + task;
  if (auto it = e.dirs.find(key); it != e.dirs.end()) return it->second;
  exporters::ExportOptions o;
  o.task = task;
  const fs::path out = e.root / key;
  exporters::export_model(fixtures / "models" / name, out, o);
  return e.dirs.emplace(key, out).first->second;
}

std::unique_ptr<ORTModelForConditionalGeneration> load(const fs::path& dir, const std::string& name,
                                                       const DecoderLayoutCase& l) {
  Vision2SeqOptions o;
  o.use_cache = l.use_cache;
  o.use_merged = l.use_merged;
  if (is_pix2struct(name))
    return std::make_unique<ORTModelForPix2Struct>(ORTModelForPix2Struct::from_pretrained(dir.string(), o));
  return std::make_unique<ORTModelForVision2Seq>(ORTModelForVision2Seq::from_pretrained(dir.string(), o));
}

const char* const kModels[] = {"vit-gpt2-tiny", "pix2struct-tiny"};

std::string param_name(const std::string& model) {
  std::string n = model;
  std::replace(n.begin(), n.end(), '-', '_');
  return n;
}

}  // namespace

class ExportImageToText : public ::testing::TestWithParam<const char*> {};

// Every .onnx file of optimum's folder, with its inputs and outputs (names, element types, symbolic and fixed dims).
TEST_P(ExportImageToText, FilesAsOptimum) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const std::string name = GetParam();
  const fs::path dir = exported(fixtures, name, "image-to-text-with-past");
  const Json& onnx = cached_reference(fixtures, name).at("onnx").at(name);
  int checked = 0;
  for (const auto& [file, rec] : onnx.at("onnx_files").items()) {
    SCOPED_TRACE(file);
    check_onnx_io(dir / file, rec);
    ++checked;
  }
  EXPECT_EQ(checked, 4);
  // The non-ONNX files optimum's folder has (tokenizer, processor, configs) are copied too.
  for (const auto& f : onnx.at("files")) EXPECT_TRUE(fs::exists(dir / f.get<std::string>())) << f.get<std::string>();
}

// Every generate case of the reference on the merged decoder: sequences identical, processed scores within the
// tolerance.
TEST_P(ExportImageToText, GenerateReproducesTransformers) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const std::string name = GetParam();
  const auto model = load(exported(fixtures, name, "image-to-text-with-past"), name, kDecoderLayouts[0]);
  EXPECT_EQ(model->layout(), DecoderLayout::Merged);
  const Json& ref = cached_reference(fixtures, name);
  const auto defaults = generation::GenerationConfig::from_pretrained(fixtures / "models" / name);
  std::map<std::string, TensorMap> inputs;
  GenerateCaseDiffs worst;
  std::size_t cases = 0;
  for (const auto& c : ref.at("generate")) {
    const std::string key = c.at("input").get<std::string>();
    const std::string id = c.at("id").get<std::string>() + "/" + key;
    if (!inputs.count(key)) inputs[key] = image_to_text_inputs(fixtures, name, key);
    generation::GenerationConfig config = defaults;
    const Json unused = config.update(c.at("kwargs"));
    ASSERT_TRUE(unused.empty()) << id << ": " << unused.dump();
    config.output_scores = true;
    config.return_dict_in_generate = true;
    const auto d = check_generate_case(generation::generate(*model, inputs[key], config), c, id, tolerance(name, true));
    worst.scores = std::max(worst.scores, d.scores);
    worst.sequences_scores = std::max(worst.sequences_scores, d.sequences_scores);
    ++cases;
  }
  EXPECT_GE(cases, 26u);
  std::cout << name << ": " << cases << " generate cases, max |score diff| " << worst.scores
            << ", max |sequences_scores diff| " << worst.sequences_scores << "\n";
}

INSTANTIATE_TEST_SUITE_P(Fixtures, ExportImageToText, ::testing::ValuesIn(kModels),
                         [](const auto& info) { return param_name(info.param); });

class ExportImageToTextForward : public ::testing::TestWithParam<std::tuple<std::string, int>> {};

// Encoder output, the decoder steps without and with past, the decoder sequence at once and the present shapes, for
// the merged decoder, the split decoders and use_cache=false.
TEST_P(ExportImageToTextForward, MatchesTransformers) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const auto& [name, layout_index] = GetParam();
  const DecoderLayoutCase& layout = kDecoderLayouts[layout_index];
  const auto model = load(exported(fixtures, name, "image-to-text-with-past"), name, layout);
  EXPECT_EQ(model->layout(), layout.expected);
  const Json& ref = cached_reference(fixtures, name);
  double enc_diff = 0, first_diff = 0, past_diff = 0, full_diff = 0;
  ASSERT_EQ(ref.at("forward").size(), 2u);
  for (const auto& entry : ref.at("forward")) {
    const std::string id = entry.at("id").get<std::string>();
    const TensorMap inputs = image_to_text_inputs(fixtures, name, entry.at("input").get<std::string>());
    const EncoderOutput enc = model->encode(inputs);
    const double d = max_abs_diff(enc.last_hidden_state, ref_tensor(entry.at("encoder_last_hidden_state")));
    EXPECT_LE(d, 1e-4) << id;
    enc_diff = std::max(enc_diff, d);
    const std::int64_t rows = enc.last_hidden_state.dim(0);
    const Json& steps = entry.at("steps");
    EncoderDecoderCache past;
    for (std::size_t s = 0; s < steps.size() && (layout.use_cache || s == 0); ++s) {
      const Tensor ids = int_tensor(steps[s].at("decoder_input_ids"));
      ASSERT_EQ(past.empty() ? 0 : past[0].self_key.dim(2), steps[s].at("past_length").get<std::int64_t>());
      Seq2SeqLMOutput out = model->decode(ids, enc, past, ones_mask(rows, static_cast<std::int64_t>(s) + 1));
      const double sd = compare_logits(out.logits, steps[s].at("logits"));
      EXPECT_LE(sd, tolerance(name, s > 0)) << id << " step " << s;
      (s == 0 ? first_diff : past_diff) = std::max(s == 0 ? first_diff : past_diff, sd);
      past = std::move(out.past_key_values);
    }
    if (layout.use_cache) {
      const Json& shapes = entry.at("present_shapes");
      ASSERT_EQ(past.size(), shapes.size());
      for (std::size_t l = 0; l < past.size(); ++l) {
        EXPECT_EQ(past[l].self_key.shape(), shapes[l][0].get<Shape>()) << id << " layer " << l;
        EXPECT_EQ(past[l].self_value.shape(), shapes[l][1].get<Shape>()) << id << " layer " << l;
        if (shapes[l].size() == 4) {
          EXPECT_EQ(past[l].cross_key.shape(), shapes[l][2].get<Shape>()) << id << " layer " << l;
          EXPECT_EQ(past[l].cross_value.shape(), shapes[l][3].get<Shape>()) << id << " layer " << l;
        } else {
          EXPECT_FALSE(past[l].cross_key.defined()) << id << ": GPT-2's cross-attention is not cached";
        }
      }
    }
    const Tensor full_ids = int_tensor(entry.at("decoder_full").at("decoder_input_ids"));
    const Seq2SeqLMOutput full = model->decode(full_ids, enc, {}, ones_mask(rows, full_ids.dim(1)));
    const double fd = compare_logits(full.logits, entry.at("decoder_full").at("logits"));
    EXPECT_LE(fd, 1e-4) << id << " decoder_full";
    full_diff = std::max(full_diff, fd);
  }
  std::cout << name << " " << layout.name << ": encoder max diff " << enc_diff << ", first step " << first_diff
            << ", steps with past " << past_diff << ", decoder_full " << full_diff << "\n";
}

INSTANTIATE_TEST_SUITE_P(Fixtures, ExportImageToTextForward,
                         ::testing::Combine(::testing::Values("vit-gpt2-tiny", "pix2struct-tiny"),
                                            ::testing::Values(0, 1, 2)),
                         [](const auto& info) {
                           return layout_param_name(std::get<0>(info.param), std::get<1>(info.param));
                         });

// image-to-text (no past): encoder_model.onnx + decoder_model.onnx without presents (optimum's files for that task),
// loaded with use_cache=false; the first step and the greedy sequence of the reference.
TEST(ExportImageToTextNoPast, TwoFilesWithoutPresents) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  for (const std::string name : {"vit-gpt2-tiny", "pix2struct-tiny"}) {
    SCOPED_TRACE(name);
    const fs::path dir = exported(fixtures, name, "image-to-text");
    EXPECT_TRUE(fs::exists(dir / "encoder_model.onnx"));
    EXPECT_TRUE(fs::exists(dir / "decoder_model.onnx"));
    EXPECT_FALSE(fs::exists(dir / "decoder_with_past_model.onnx"));
    EXPECT_FALSE(fs::exists(dir / "decoder_model_merged.onnx"));
    onnx::ModelProto decoder;
    std::ifstream in(dir / "decoder_model.onnx", std::ios::binary);
    ASSERT_TRUE(decoder.ParseFromIstream(&in));
    ASSERT_EQ(decoder.graph().output_size(), 1);
    EXPECT_EQ(decoder.graph().output(0).name(), "logits");
    const auto model = load(dir, name, kDecoderLayouts[2]);
    EXPECT_EQ(model->layout(), DecoderLayout::NoCache);
    const Json& ref = cached_reference(fixtures, name);
    const Json& entry = ref.at("forward")[0];
    const TensorMap inputs = image_to_text_inputs(fixtures, name, entry.at("input").get<std::string>());
    const EncoderOutput enc = model->encode(inputs);
    const Json& step = entry.at("steps")[0];
    EXPECT_LE(compare_logits(model->decode(int_tensor(step.at("decoder_input_ids")), enc, {}, ones_mask(1, 1)).logits,
                             step.at("logits")),
              1e-4);
    for (const auto& c : ref.at("generate")) {
      if (c.at("id") != "greedy") continue;
      const std::string key = c.at("input").get<std::string>();
      auto config = generation::GenerationConfig::from_pretrained(fixtures / "models" / name);
      config.update(c.at("kwargs"));
      const auto out = generation::generate(*model, image_to_text_inputs(fixtures, name, key), config);
      EXPECT_EQ(out.sequences.to_vector<std::int64_t>(), [&] {
        std::vector<std::int64_t> flat;
        for (const auto& r : c.at("sequences"))
          for (const auto& v : r) flat.push_back(v.get<std::int64_t>());
        return flat;
      }()) << key;
    }
  }
}

// optimum's main_export makes -with-past the default for these classes.
TEST(ExportImageToTextTask, InferredFromTheCheckpoint) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  EXPECT_EQ(exporters::infer_task(fixtures / "models" / "vit-gpt2-tiny"), "image-to-text-with-past");
  EXPECT_EQ(exporters::infer_task(fixtures / "models" / "pix2struct-tiny"), "image-to-text-with-past");
  EXPECT_EQ(exporters::normalize_task("image-to-text"), "image-to-text");
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

void build(const fs::path& dir, const std::string& task = "image-to-text-with-past",
           exporters::DecoderFile file = exporters::DecoderFile::Decoder, bool optimize = false) {
  exporters::ExportOptions o;
  o.task = task;
  o.optimize = optimize;
  (void)exporters::build_model(dir, o, {}, true, file);
}

}  // namespace

TEST(ExportImageToTextErrors, UnsupportedConfigsAndOptionsSayWhat) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const auto keep = [](NamedTensors&) {};
  const fs::path vit_gpt2 = fixtures / "models" / "vit-gpt2-tiny", p2s = fixtures / "models" / "pix2struct-tiny";
  {
    auto d = derive(
        fixtures, "vit-gpt2-tiny", [](Json& c) { c["decoder"]["model_type"] = "bert"; }, keep);
    expect_error<UnsupportedError>([&] { build(d->dir); }, {"decoder model_type 'bert'", "gpt2"});
  }
  {
    auto d = derive(
        fixtures, "vit-gpt2-tiny", [](Json& c) { c["encoder"]["model_type"] = "swin"; }, keep);
    expect_error<UnsupportedError>([&] { build(d->dir, "image-to-text", exporters::DecoderFile::Encoder); },
                                   {"encoder model_type 'swin'", "vit, deit"});
  }
  {
    auto d = derive(
        fixtures, "vit-gpt2-tiny", [](Json& c) { c.erase("decoder"); }, keep);
    expect_error<InvalidArgument>([&] { build(d->dir); }, {"\"decoder\""});
  }
  {
    // Widths that differ need VisionEncoderDecoderModel's enc_to_dec_proj.
    auto d = derive(
        fixtures, "vit-gpt2-tiny", [](Json& c) { c["encoder"]["hidden_size"] = 48; }, keep);
    expect_error<UnsupportedError>([&] { build(d->dir); }, {"hidden_size 48", "enc_to_dec_proj"});
  }
  {
    auto d = derive(
        fixtures, "vit-gpt2-tiny", [](Json&) {},
        [](NamedTensors& t) {
          drop_if(t, [](const std::string& n) { return n == "decoder.transformer.h.1.crossattention.q_attn.weight"; });
        });
    expect_error<NotFoundError>([&] { build(d->dir); }, {"h.1.crossattention.q_attn.weight"});
  }
  {
    auto d = derive(
        fixtures, "pix2struct-tiny", [](Json&) {},
        [](NamedTensors& t) {
          drop_if(t, [](const std::string& n) { return n.find("relative_attention_bias") != std::string::npos; });
        });
    expect_error<NotFoundError>([&] { build(d->dir); }, {"relative_attention_bias"});
  }
  {
    auto d = derive(
        fixtures, "pix2struct-tiny", [](Json& c) { c["text_config"]["num_heads"] = 0; }, keep);
    expect_error<InvalidArgument>([&] { build(d->dir); }, {"text_config", "num_heads must be a positive integer"});
  }
  expect_error<UnsupportedError>([&] { build(vit_gpt2, "text-generation", exporters::DecoderFile::Model); },
                                 {"text-generation", "vision-encoder-decoder", "image-to-text"});
  expect_error<UnsupportedError>([&] { build(fixtures / "models" / "gpt2-tiny"); }, {"image-to-text", "gpt2"});
  expect_error<UnsupportedError>([&] { build(p2s, "image-to-text-with-past", exporters::DecoderFile::Decoder, true); },
                                 {"--optimize"});
  expect_error<InvalidArgument>([&] { build(p2s, "image-to-text", exporters::DecoderFile::DecoderWithPast); },
                                {"decoder_with_past_model.onnx"});
  expect_error<InvalidArgument>([&] { build(p2s, "image-to-text", exporters::DecoderFile::Model); }, {"model.onnx"});
  const fs::path out = make_temp_dir("export-image-to-text-bad");
  exporters::ExportOptions legacy;
  legacy.legacy = true;
  expect_error<InvalidArgument>([&] { exporters::export_model(p2s, out / "legacy", legacy); },
                                {"legacy", "image-to-text-with-past"});
  std::error_code ec;
  fs::remove_all(out, ec);
}

// --quantize int8 / int4 quantise the weight MatMuls of the four files; the merged decoder's first-step logits stay
// within 10% of the float range of the float export's (tiny random models are a worst case, see docs/export.md).
TEST(ExportImageToTextQuantized, CloseToFloat) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  for (const std::string name : {"vit-gpt2-tiny", "pix2struct-tiny"}) {
    const auto float_model = load(exported(fixtures, name, "image-to-text-with-past"), name, kDecoderLayouts[0]);
    const Json& entry = cached_reference(fixtures, name).at("forward")[0];
    const TensorMap inputs = image_to_text_inputs(fixtures, name, entry.at("input").get<std::string>());
    const Tensor ids = int_tensor(entry.at("steps")[0].at("decoder_input_ids"));
    const auto reference = float_model->decode(ids, float_model->encode(inputs), {}, ones_mask(1, 1)).logits;
    const auto ref = reference.to_float_vector();
    const auto [lo, hi] = std::minmax_element(ref.begin(), ref.end());
    for (const std::string scheme : {"int8", "int4"}) {
      SCOPED_TRACE(name + " " + scheme);
      const fs::path out = make_temp_dir("export-image-to-text-" + scheme);
      exporters::ExportOptions o;
      o.quantize = scheme;
      exporters::export_model(fixtures / "models" / name, out, o);
      const auto m = load(out, name, kDecoderLayouts[0]);
      const auto q = m->decode(ids, m->encode(inputs), {}, ones_mask(1, 1)).logits.to_float_vector();
      ASSERT_EQ(q.size(), ref.size());
      double worst = 0;
      for (std::size_t i = 0; i < q.size(); ++i) worst = std::max(worst, std::fabs(double(q[i]) - ref[i]));
      EXPECT_LT(worst, 0.1 * (*hi - *lo));
      EXPECT_GT(worst, 0.0) << "the quantised graph computes exactly the float logits";
      std::cout << name << " " << scheme << ": max first-step logit diff " << worst << " (float range " << (*hi - *lo)
                << ")\n";
      std::error_code ec;
      fs::remove_all(out, ec);
    }
  }
}

// from_pretrained(checkpoint, export_model) exports image-to-text-with-past into the cache and loads the merged
// decoder; the first decoder step matches transformers.
TEST(ExportImageToTextFromPretrained, ExportTrueLoadsTheCheckpoint) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const fs::path cache = make_temp_dir("export-image-to-text-cache");
  const char* old = std::getenv("ORTFORMERS_CACHE");
  const std::string saved = old != nullptr ? old : "";
  ::setenv("ORTFORMERS_CACHE", cache.c_str(), 1);
  for (const std::string name : {"vit-gpt2-tiny", "pix2struct-tiny"}) {
    SCOPED_TRACE(name);
    Vision2SeqOptions o;
    o.base.export_model = true;
    const std::string dir = (fixtures / "models" / name).string();
    std::unique_ptr<ORTModelForConditionalGeneration> m;
    if (is_pix2struct(name))
      m = std::make_unique<ORTModelForPix2Struct>(ORTModelForPix2Struct::from_pretrained(dir, o));
    else
      m = std::make_unique<ORTModelForVision2Seq>(ORTModelForVision2Seq::from_pretrained(dir, o));
    EXPECT_EQ(m->layout(), DecoderLayout::Merged);
    const Json& entry = cached_reference(fixtures, name).at("forward")[0];
    const EncoderOutput enc = m->encode(image_to_text_inputs(fixtures, name, entry.at("input").get<std::string>()));
    const Json& step = entry.at("steps")[0];
    EXPECT_LE(compare_logits(m->decode(int_tensor(step.at("decoder_input_ids")), enc, {}, ones_mask(1, 1)).logits,
                             step.at("logits")),
              1e-4);
  }
  if (old != nullptr)
    ::setenv("ORTFORMERS_CACHE", saved.c_str(), 1);
  else
    ::unsetenv("ORTFORMERS_CACHE");
  std::error_code ec;
  fs::remove_all(cache, ec);
}
