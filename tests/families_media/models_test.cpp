// The ORTModel classes on the optimum exports of the ConvNeXt, DeiT (distilled), WavLM and AST fixtures against the
// recorded PyTorch outputs (1e-4), padded batches included.
#include <gtest/gtest.h>

#include "ortformers/models/audio_classification.hpp"
#include "ortformers/models/audio_frame_classification.hpp"
#include "ortformers/models/audio_xvector.hpp"
#include "ortformers/models/image_classification.hpp"
#include "ortformers/preprocessing/audio_feature_extractor.hpp"
#include "support/media.hpp"

namespace fs = std::filesystem;
using namespace ortformers;
using namespace ortformers::models;
using namespace ortformers::testing::media;

namespace {

template <class Model>
void check_image_classifier(const std::string& name) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const Json& ref = reference(fixtures, name);
  const auto model = Model::from_pretrained((fixtures / "onnx" / name).string());
  double worst = 0;
  for (const auto& mo : ref.at("model_outputs")) {
    const auto& p = ref.at("preprocessing").at(mo.at("preprocessing_index").get<std::size_t>());
    const Tensor out = model.forward(tensor_from_ref(fixtures, p.at("pixel_values"))).logits;
    const Json& r = resolve(fixtures, mo.at("outputs").at("logits"));
    ASSERT_EQ(out.shape(), shape_of(r));
    worst = std::max(worst, max_diff(out, r));
  }
  const auto& idx = ref.at("batch").at("preprocessing_indices");
  std::vector<Tensor> rows;
  for (const auto& i : idx)
    rows.push_back(tensor_from_ref(fixtures, ref.at("preprocessing").at(i.get<std::size_t>()).at("pixel_values")));
  const Tensor out = model.forward(stack(rows)).logits;
  worst = std::max(worst, max_diff(out, resolve(fixtures, ref.at("batch").at("outputs").at("logits"))));
  std::cout << name << " optimum export vs PyTorch logits max diff " << worst << "\n";
  EXPECT_LE(worst, 1e-4);
}

TEST(FamilyModels, ConvNextImageClassification) {
  check_image_classifier<ORTModelForImageClassification>("convnext-tiny-cls");
}

TEST(FamilyModels, DeiTDistilledImageClassification) {
  // The export's logits are (cls_logits + distillation_logits) / 2.
  check_image_classifier<ORTModelForImageClassification>("deit-tiny-distilled-cls");
}

// Audio inputs: recomputed with our extractor (the long clips are only sampled in the references).
template <class Model, class Fn>
void check_audio(const std::string& name, const std::string& output, Fn get) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const Json& ref = reference(fixtures, name);
  const auto model = Model::from_pretrained((fixtures / "onnx" / name).string());
  const auto fe = preprocessing::AudioFeatureExtractor::from_pretrained(fixtures / "onnx" / name);
  double worst = 0;
  for (const auto& mo : ref.at("model_outputs")) {
    const auto& p = ref.at("preprocessing").at(mo.at("preprocessing_index").get<std::size_t>());
    const std::string file = p.at("audio");
    // The extractor's attention mask (WavLM) is dropped: the optimum graph has no such input.
    const Tensor out = get(model.forward(fe(clip(fixtures, file))));
    const Json& r = resolve(fixtures, mo.at("outputs").at(output));
    ASSERT_EQ(out.shape(), shape_of(r)) << file;
    const double d = max_diff(out, r);
    EXPECT_LE(d, 1e-4) << name << " " << file;
    worst = std::max(worst, d);
  }
  // Padded batch: without a mask input the graph sees the padding (outputs_input_values_only where recorded).
  const Json& b = ref.at("batch");
  const Json& expected = b.contains("outputs_input_values_only") ? b.at("outputs_input_values_only") : b.at("outputs");
  const Tensor iv = fe(batch_clips(fixtures, ref)).at("input_values");
  const Tensor out = get(model.forward(iv));
  const double d = max_diff(out, resolve(fixtures, expected.at(output)));
  EXPECT_LE(d, 1e-4) << name << " batch";
  worst = std::max(worst, d);
  for (std::int64_t i = 0; i < iv.dim(0); ++i)
    EXPECT_LE(max_abs(row(out, i), get(model.forward(row(iv, i)))), 1e-5) << name << " batch row " << i;
  std::cout << name << " optimum export vs PyTorch " << output << " max diff " << worst << "\n";
}

TEST(FamilyModels, WavLMXVector) {
  check_audio<ORTModelForAudioXVector>("wavlm-tiny-xvector", "logits", [](const XVectorOutput& o) { return o.logits; });
  check_audio<ORTModelForAudioXVector>("wavlm-tiny-xvector", "embeddings",
                                       [](const XVectorOutput& o) { return o.embeddings; });
}

TEST(FamilyModels, WavLMFrameClassification) {
  check_audio<ORTModelForAudioFrameClassification>("wavlm-tiny-frames", "logits",
                                                   [](const AudioFrameClassifierOutput& o) { return o.logits; });
}

TEST(FamilyModels, ASTAudioClassification) {
  check_audio<ORTModelForAudioClassification>("ast-tiny-audiocls", "logits",
                                              [](const AudioClassifierOutput& o) { return o.logits; });
}

TEST(FamilyModels, WavLMXVectorCosineSimilarity) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const Json& ref = reference(fixtures, "wavlm-tiny-xvector");
  const Json& xv = ref.at("xvector");
  const auto dir = fixtures / "onnx/wavlm-tiny-xvector";
  const auto model = ORTModelForAudioXVector::from_pretrained(dir.string());
  const auto fe = preprocessing::AudioFeatureExtractor::from_pretrained(dir);
  std::vector<std::vector<float>> emb;
  for (const auto& f : xv.at("audio"))
    emb.push_back(model.forward(fe(clip(fixtures, f.get<std::string>()))).embeddings.to_float_vector());
  const auto cos = xv.at("cosine_similarity").at("data").get<std::vector<double>>();
  ASSERT_EQ(cos.size(), emb.size() * emb.size());
  for (std::size_t i = 0; i < emb.size(); ++i)
    for (std::size_t j = 0; j < emb.size(); ++j)
      EXPECT_NEAR(cosine_similarity(emb[i], emb[j]), cos[i * emb.size() + j], 1e-4) << i << "," << j;
}

TEST(FamilyModels, WavLMFrameLabels) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const Json& ref = reference(fixtures, "wavlm-tiny-frames");
  const auto dir = fixtures / "onnx/wavlm-tiny-frames";
  const auto model = ORTModelForAudioFrameClassification::from_pretrained(dir.string());
  const auto fe = preprocessing::AudioFeatureExtractor::from_pretrained(dir);
  int checked = 0;
  for (const auto& f : ref.at("frame_labels")) {
    const Tensor logits = model.forward(fe(clip(fixtures, f.at("audio").get<std::string>()))).logits;
    const auto expected = f.at("argmax_labels").get<std::vector<std::string>>();
    ASSERT_EQ(logits.dim(1), static_cast<std::int64_t>(expected.size()));
    const auto v = logits.to_float_vector();
    const auto L = logits.dim(2);
    int mismatches = 0;
    for (std::size_t t = 0; t < expected.size(); ++t) {
      const float* r = v.data() + t * L;
      mismatches += model.config().id2label().at(std::max_element(r, r + L) - r) != expected[t];
    }
    EXPECT_EQ(mismatches, 0) << f.at("audio");
    ++checked;
  }
  EXPECT_GE(checked, 6);
}

}  // namespace
