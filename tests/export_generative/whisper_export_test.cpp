// Native export of models/whisper-tiny as automatic-speech-recognition-with-past against transformers 4.31
// (reference/whisper-tiny.json): optimum 1.17's four files with its input / output names and dims; loaded by
// ORTModelForSpeechSeq2Seq in each decoder layout, the encoder output (sampled reference), step logits with past and
// the DecoderStep within 1e-4; every Whisper generate() case (language / task, language detection, timestamps, beams,
// suppression, penalties) with identical sequences; the task without past; bad configs.
#include <gtest/gtest.h>

#include <iostream>
#include <map>

#include "export/exporter.hpp"
#include "onnx_io.hpp"
#include "ortformers/core/error.hpp"
#include "ortformers/export/export.hpp"
#include "ortformers/generation/whisper.hpp"
#include "ortformers/models/speech_seq2seq.hpp"
#include "ortformers/preprocessing/audio.hpp"
#include "ortformers/preprocessing/whisper_feature_extractor.hpp"
#include "support/derived_checkpoint.hpp"
#include "support/generative_reference.hpp"
#include "whisper/whisper_support.hpp"

namespace fs = std::filesystem;
using namespace ortformers;
using namespace ortformers::models;
using namespace ortformers::testing;
using namespace ortformers::testing::whisper;

namespace {

constexpr double kTol = 1e-4;

struct WhisperExports {
  fs::path root;
  ~WhisperExports() {
    std::error_code ec;
    if (!root.empty()) fs::remove_all(root, ec);
  }
};

fs::path exported(const fs::path& fixtures, const std::string& task = "automatic-speech-recognition-with-past") {
  static WhisperExports e;
  if (e.root.empty()) e.root = make_temp_dir("export-whisper");
  const fs::path out = e.root / task;
  if (!fs::exists(out / ".done")) {
    exporters::ExportOptions o;
    o.task = task;
    o.progress = false;
    exporters::export_model(fixtures / "models" / "whisper-tiny", out, o);
    write_text_file(out / ".done", "");
  }
  return out;
}

ORTModelForSpeechSeq2Seq load(const fs::path& dir, const DecoderLayoutCase& l) {
  SpeechSeq2SeqOptions o;
  o.use_cache = l.use_cache;
  o.use_merged = l.use_merged;
  return ORTModelForSpeechSeq2Seq::from_pretrained(dir.string(), o);
}

// The feature extractor's input_features of the clips (computed once per list of files).
Tensor features_of(const fs::path& fixtures, const Json& files) {
  static std::map<std::string, Tensor> cache;
  if (auto it = cache.find(files.dump()); it != cache.end()) return it->second;
  std::vector<std::vector<float>> clips;
  for (const auto& f : files)
    clips.push_back(preprocessing::to_mono(preprocessing::load_audio(fixtures / f.get<std::string>())));
  Tensor x = preprocessing::WhisperFeatureExtractor::from_pretrained(fixtures / "models" / "whisper-tiny")(clips).at(
      "input_features");
  cache.emplace(files.dump(), x);
  return x;
}

TEST(ExportWhisper, FilesInputsAndOutputsAsOptimum) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const fs::path dir = exported(fixtures);
  const Json& files = reference(fixtures).at("onnx").at("whisper-tiny").at("onnx_files");
  EXPECT_EQ(files.size(), 4u);
  for (const auto& [file, rec] : files.items()) {
    SCOPED_TRACE(file);
    ASSERT_TRUE(fs::exists(dir / file));
    check_onnx_io(dir / file, rec);
  }
  for (const char* f : {"config.json", "generation_config.json", "preprocessor_config.json", "normalizer.json"})
    EXPECT_TRUE(fs::exists(dir / f)) << f;
}

TEST(ExportWhisper, ForwardMatchesTransformersInEveryLayout) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
#if defined(__SANITIZE_ADDRESS__)
  const std::vector<DecoderLayoutCase> layouts{kDecoderLayouts[0]};  // merged only: the others share the code paths
#else
  const std::vector<DecoderLayoutCase> layouts(std::begin(kDecoderLayouts), std::end(kDecoderLayouts));
#endif
  for (const auto& layout : layouts) {
    SCOPED_TRACE(layout.name);
    const auto model = load(exported(fixtures), layout);
    EXPECT_EQ(model.layout(), layout.expected);
    double enc_diff = 0, step_diff = 0;
    for (const auto& entry : reference(fixtures).at("forward")) {
      const std::string id = entry.at("id").get<std::string>();
      const Tensor x = features_of(fixtures, entry.at("audio"));
      const EncoderOutput enc = model.encode({{"input_features", x}});
      enc_diff = std::max(enc_diff, compare_sampled(enc.last_hidden_state.to_vector<float>(),
                                                    entry.at("encoder_last_hidden_state"), kTol, id + " encoder"));
      const Json& steps = entry.at("steps");
      EncoderDecoderCache past;
      for (std::size_t s = 0; s < steps.size(); ++s) {
        if (!layout.use_cache && s > 0) break;
        const Tensor dec = int_tensor(steps[s].at("decoder_input_ids"));
        Seq2SeqLMOutput out = s == 0 ? model.forward(x, dec) : model.forward({}, dec, past, &enc);
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
      auto state = model.start(TensorMap{{"input_features", x}});
      for (std::size_t s = 0; s < steps.size(); ++s) {
        const Tensor logits = state->step(int_tensor(steps[s].at("decoder_input_ids")), {});
        const double sd = compare_logits(logits.reshape({logits.dim(0), 1, logits.dim(1)}), steps[s].at("logits"));
        EXPECT_LE(sd, kTol) << id << " DecoderStep step " << s;
        step_diff = std::max(step_diff, sd);
      }
    }
    std::cout << "whisper-tiny export, " << layout.name << ": encoder max diff " << enc_diff << ", step logits "
              << step_diff << "\n";
  }
}

// Every generate case on the merged decoder; under the sanitizers every other case.
TEST(ExportWhisper, GenerateReproducesTransformers) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const auto model = load(exported(fixtures), kDecoderLayouts[0]);
  const Json& ref = reference(fixtures);
  double worst = 0;
  int cases = 0, index = 0;
  for (const auto& c : ref.at("generate")) {
#if defined(__SANITIZE_ADDRESS__)
    if (index++ % 2 == 1) continue;
#else
    ++index;
#endif
    const std::string id = c.at("id").get<std::string>() + "/" + c.at("input").get<std::string>();
    const Tensor x = features_of(fixtures, ref.at("generate_inputs").at(c.at("input").get<std::string>()));
    Json kwargs = c.at("kwargs");
    kwargs["output_scores"] = true;
    kwargs["return_dict_in_generate"] = true;
    const auto d =
        check_generate_case(generation::generate_whisper(model, {{"input_features", x}}, {}, kwargs), c, id, kTol);
    worst = std::max({worst, d.scores, d.sequences_scores});
    ++cases;
  }
  EXPECT_GE(cases, 5);
  std::cout << "whisper-tiny export: " << cases << " generate cases, max score diff " << worst << "\n";
}

// automatic-speech-recognition (no past): the encoder and a logits-only decoder; use_cache=false generates the
// reference greedy case.
TEST(ExportWhisper, WithoutPastTask) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const fs::path dir = exported(fixtures, "automatic-speech-recognition");
  EXPECT_FALSE(fs::exists(dir / "decoder_with_past_model.onnx"));
  const auto model = load(dir, kDecoderLayouts[2]);
  const Json& ref = reference(fixtures);
  const Json& c = ref.at("generate")[0];
  const Tensor x = features_of(fixtures, ref.at("generate_inputs").at(c.at("input").get<std::string>()));
  const auto out = generation::generate_whisper(model, {{"input_features", x}}, {}, c.at("kwargs"));
  EXPECT_EQ(out.sequences.to_vector<std::int64_t>(), [&] {
    std::vector<std::int64_t> flat;
    for (const auto& row : c.at("sequences"))
      for (const auto& v : row) flat.push_back(v.get<std::int64_t>());
    return flat;
  }()) << c.at("id");
  EXPECT_EQ(exporters::infer_task(fixtures / "models" / "whisper-tiny"), "automatic-speech-recognition-with-past");
}

TEST(ExportWhisper, BadConfigsNameTheField) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const fs::path out = make_temp_dir("export-whisper-bad");
  auto expect_error = [&](const std::function<void(Json&)>& edit, const std::string& needle) {
    auto d = derive(fixtures, "whisper-tiny", edit, [](NamedTensors&) {});
    exporters::ExportOptions o;
    o.task = "automatic-speech-recognition-with-past";
    try {
      exporters::export_model(d->dir, out / "x", o);
      ADD_FAILURE() << "no error for " << needle;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  expect_error([](Json& c) { c["num_mel_bins"] = 64; }, "conv1.weight");
  expect_error([](Json& c) { c["max_source_positions"] = 750; }, "embed_positions");
  expect_error([](Json& c) { c["encoder_attention_heads"] = 5; }, "d_model 32");
  expect_error([](Json& c) { c["decoder_layers"] = -1; }, "decoder_layers");
  // Tasks of other families.
  exporters::ExportOptions o;
  o.task = "text2text-generation-with-past";
  EXPECT_THROW(exporters::export_model(fixtures / "models" / "whisper-tiny", out / "y", o), UnsupportedError);
  std::error_code ec;
  fs::remove_all(out, ec);
}

}  // namespace
