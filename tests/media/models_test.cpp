// The seven vision / audio ORTModel classes on the optimum exports in fixtures/onnx, against the recorded PyTorch
// outputs (1e-4), and batch == one at a time for every class.
#include <gtest/gtest.h>

#include "ortformers/models/audio_classification.hpp"
#include "ortformers/models/audio_frame_classification.hpp"
#include "ortformers/models/audio_xvector.hpp"
#include "ortformers/models/ctc.hpp"
#include "ortformers/models/image_classification.hpp"
#include "ortformers/models/image_to_image.hpp"
#include "ortformers/models/semantic_segmentation.hpp"
#include "ortformers/preprocessing/audio.hpp"
#include "ortformers/preprocessing/feature_extractor.hpp"
#include "support/media.hpp"

namespace fs = std::filesystem;
using namespace ortformers;
using namespace ortformers::models;
using namespace ortformers::testing::media;

namespace {

// Input values of an audio preprocessing entry: the recorded tensor, or (for sampled long clips) our own
// preprocessing, which matches the recorded one to ~1e-6 (preprocessing_test).
Tensor audio_input(const fs::path& fixtures, const std::string& name, const Json& p) {
  const Json& r = resolve(fixtures, p.at("input_values"));
  if (!r.value("sampled", false)) return tensor_from_ref(fixtures, p.at("input_values"));
  using namespace ortformers::preprocessing;
  const auto fe = Wav2Vec2FeatureExtractor::from_pretrained(fixtures / "onnx" / name);
  auto mono = load_audio_mono(fixtures / p.at("audio").get<std::string>(), fe.sampling_rate());
  auto out = fe(mono);
  EXPECT_LE(max_diff(out.at("input_values"), r), 1e-4);
  return out.at("input_values");
}

template <class Model, class Fn>
void check_vision(const std::string& name, const std::string& output, Fn get) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const Json& ref = reference(fixtures, name);
  const auto model = Model::from_pretrained((fixtures / "onnx" / name).string());
  for (const auto& mo : ref.at("model_outputs")) {
    const auto& p = ref.at("preprocessing").at(mo.at("preprocessing_index").get<std::size_t>());
    const Tensor pv = tensor_from_ref(fixtures, p.at("pixel_values"));
    const Tensor out = get(model.forward(TensorMap{{"pixel_values", pv}}));
    const Json& r = resolve(fixtures, mo.at("outputs").at(output));
    ASSERT_EQ(out.shape(), shape_of(r)) << p.at("image");
    EXPECT_LE(max_diff(out, r), 1e-4) << name << " " << p.at("image");
  }
  if (ref.contains("batch") && ref.at("batch").contains("preprocessing_indices")) {
    const auto& idx = ref.at("batch").at("preprocessing_indices");
    std::vector<Tensor> rows;
    for (const auto& i : idx)
      rows.push_back(tensor_from_ref(fixtures, ref.at("preprocessing").at(i.get<std::size_t>()).at("pixel_values")));
    const Tensor batch = stack(rows);
    const Tensor out = get(model.forward(TensorMap{{"pixel_values", batch}}));
    EXPECT_LE(max_diff(out, resolve(fixtures, ref.at("batch").at("outputs").at(output))), 1e-4) << name << " batch";
    for (std::int64_t b = 0; b < batch.dim(0); ++b) {
      const Tensor single = get(model.forward(TensorMap{{"pixel_values", row(batch, b)}}));
      EXPECT_LE(max_abs(row(out, b), single), 1e-5) << name << " batch row " << b << " vs single";
    }
  }
}

TEST(MediaModels, ImageClassification) {
  check_vision<ORTModelForImageClassification>("vit-tiny-cls", "logits",
                                               [](const ImageClassifierOutput& o) { return o.logits; });
}

TEST(MediaModels, SemanticSegmentation) {
  check_vision<ORTModelForSemanticSegmentation>("segformer-tiny", "logits",
                                                [](const SemanticSegmenterOutput& o) { return o.logits; });
}

TEST(MediaModels, ImageToImage) {
  check_vision<ORTModelForImageToImage>("swin2sr-tiny", "reconstruction",
                                        [](const ImageSuperResolutionOutput& o) { return o.reconstruction; });
}

TEST(MediaModels, FeatureExtractionWithPixelValues) {
  check_vision<ORTModelForFeatureExtraction>("vit-tiny", "last_hidden_state",
                                             [](const BaseModelOutput& o) { return o.last_hidden_state; });
}

TEST(MediaModels, SwinBatchOfSameSizeEqualsSingle) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  // No recorded batch for Swin2SR (each image pads to its own size): two copies of one image, and a flipped copy.
  const Json& ref = reference(fixtures, "swin2sr-tiny");
  const auto model = ORTModelForImageToImage::from_pretrained((fixtures / "onnx" / "swin2sr-tiny").string());
  const Tensor pv = tensor_from_ref(fixtures, ref.at("preprocessing").at(0).at("pixel_values"));
  const Tensor batch = stack({pv, reversed(pv)});
  const Tensor out = model.forward(batch).reconstruction;
  for (std::int64_t b = 0; b < 2; ++b)
    EXPECT_LE(max_abs(row(out, b), model.forward(row(batch, b)).reconstruction), 1e-4);
}

template <class Model, class Fn>
void check_audio(const std::string& name, const std::string& output, Fn get) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const Json& ref = reference(fixtures, name);
  const auto model = Model::from_pretrained((fixtures / "onnx" / name).string());
  EXPECT_FALSE(model.accepts_attention_mask());
  for (const auto& mo : ref.at("model_outputs")) {
    const auto& p = ref.at("preprocessing").at(mo.at("preprocessing_index").get<std::size_t>());
    const Tensor iv = audio_input(fixtures, name, p);
    // An attention mask is accepted and dropped for graphs without that input (optimum's behaviour).
    TensorMap in{{"input_values", iv}, {"attention_mask", Tensor::zeros(DType::Int64, iv.shape())}};
    const auto res = model.forward(in);
    const Tensor out = get(res);
    const Json& r = resolve(fixtures, mo.at("outputs").at(output));
    ASSERT_EQ(out.shape(), shape_of(r)) << p.at("audio");
    EXPECT_LE(max_diff(out, r), 1e-4) << name << " " << p.at("audio");
    if (mo.contains("argmax_ids")) {
      const auto ids = mo.at("argmax_ids").get<std::vector<std::int64_t>>();
      const auto v = out.to_float_vector();
      const std::int64_t V = out.dim(2);
      int mismatches = 0;
      for (std::size_t f = 0; f < ids.size(); ++f) {
        const auto* rowp = v.data() + f * V;
        mismatches += (std::max_element(rowp, rowp + V) - rowp) != ids[f];
      }
      EXPECT_LE(mismatches, mo.value("argmax_near_ties", 0)) << p.at("audio");
    }
  }
  const Json& b = ref.at("batch");
  const Tensor iv = tensor_from_ref(fixtures, b.at("inputs").at("input_values"));
  const Tensor out = get(model.forward(iv));
  EXPECT_LE(max_diff(out, resolve(fixtures, b.at("outputs").at(output))), 1e-4) << name << " batch";
  for (std::int64_t i = 0; i < iv.dim(0); ++i)
    EXPECT_LE(max_abs(row(out, i), get(model.forward(row(iv, i)))), 1e-5) << name << " batch row " << i;
}

TEST(MediaModels, AudioClassification) {
  check_audio<ORTModelForAudioClassification>("wav2vec2-tiny-audiocls", "logits",
                                              [](const AudioClassifierOutput& o) { return o.logits; });
}
TEST(MediaModels, AudioFrameClassification) {
  check_audio<ORTModelForAudioFrameClassification>("wav2vec2-tiny-frames", "logits",
                                                   [](const AudioFrameClassifierOutput& o) { return o.logits; });
}
TEST(MediaModels, AudioXVectorLogits) {
  check_audio<ORTModelForAudioXVector>("wav2vec2-tiny-xvector", "logits",
                                       [](const XVectorOutput& o) { return o.logits; });
}
TEST(MediaModels, AudioXVectorEmbeddings) {
  check_audio<ORTModelForAudioXVector>("wav2vec2-tiny-xvector", "embeddings",
                                       [](const XVectorOutput& o) { return o.embeddings; });
}
TEST(MediaModels, CTC) {
  check_audio<ORTModelForCTC>("wav2vec2-tiny-ctc", "logits", [](const CTCOutput& o) { return o.logits; });
}

TEST(MediaModels, XVectorCosineSimilarityMatchesReference) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const Json& ref = reference(fixtures, "wav2vec2-tiny-xvector");
  ASSERT_TRUE(ref.contains("xvector"));
  const Json& xv = ref.at("xvector");
  const auto model = ORTModelForAudioXVector::from_pretrained((fixtures / "onnx" / "wav2vec2-tiny-xvector").string());
  std::vector<std::vector<float>> emb;
  for (const auto& p : ref.at("preprocessing"))
    emb.push_back(model.forward(audio_input(fixtures, "wav2vec2-tiny-xvector", p)).embeddings.to_float_vector());
  const auto cos = xv.at("cosine_similarity").at("data").get<std::vector<double>>();
  ASSERT_EQ(cos.size(), emb.size() * emb.size());
  for (std::size_t i = 0; i < emb.size(); ++i)
    for (std::size_t j = 0; j < emb.size(); ++j)
      EXPECT_NEAR(cosine_similarity(emb[i], emb[j]), cos[i * emb.size() + j], 1e-4) << i << "," << j;
  // normalize_embeddings matches the recorded L2-normalised embeddings.
  std::vector<float> flat;
  for (const auto& e : emb) flat.insert(flat.end(), e.begin(), e.end());
  const Tensor normed = normalize_embeddings(
      Tensor::from_vector(flat, {static_cast<std::int64_t>(emb.size()), static_cast<std::int64_t>(emb[0].size())}));
  EXPECT_LE(max_diff(normed, xv.at("embeddings_normalized")), 1e-4);
  EXPECT_THROW(cosine_similarity(emb[0], std::vector<float>{1.0f}), InvalidArgument);
}

TEST(MediaModels, FrameLabelsMatchReference) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const Json& ref = reference(fixtures, "wav2vec2-tiny-frames");
  const auto model =
      ORTModelForAudioFrameClassification::from_pretrained((fixtures / "onnx" / "wav2vec2-tiny-frames").string());
  for (const auto& f : ref.at("frame_labels")) {
    const auto& p = ref.at("preprocessing").at(f.at("preprocessing_index").get<std::size_t>());
    const Tensor logits = model.forward(audio_input(fixtures, "wav2vec2-tiny-frames", p)).logits;
    const auto expected = f.at("argmax_labels").get<std::vector<std::string>>();
    ASSERT_EQ(logits.dim(1), static_cast<std::int64_t>(expected.size()));
    const auto v = logits.to_float_vector();
    const auto L = logits.dim(2);
    int mismatches = 0;
    for (std::size_t t = 0; t < expected.size(); ++t) {
      const float* r = v.data() + t * L;
      const auto id = std::max_element(r, r + L) - r;
      mismatches += model.config().id2label().at(id) != expected[t];
    }
    EXPECT_EQ(mismatches, 0) << f.at("audio");
  }
}

TEST(MediaModels, MissingInputIsAClearError) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const auto model = ORTModelForCTC::from_pretrained((fixtures / "onnx" / "wav2vec2-tiny-ctc").string());
  EXPECT_THROW(model.forward(TensorMap{}), InvalidArgument);
  EXPECT_THROW(ORTModelForImageClassification::from_pretrained((fixtures / "media").string()), NotFoundError);
}

}  // namespace
