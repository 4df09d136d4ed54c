// MPNet has no fixture yet: a tiny random MPNet checkpoint is exported and compared with a direct double-precision
// implementation of transformers' modeling_mpnet.py forward (positions from padding_idx, T5-style relative position
// buckets, post-LN layers), plain and --optimize.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "export/exporter.hpp"
#include "export/ort_runner.hpp"
#include "ortformers/export/safetensors_writer.hpp"
#include "support/fixtures.hpp"

namespace fs = std::filesystem;
using namespace ortformers;
using namespace ortformers::exporters;

namespace {

constexpr int V = 50, H = 8, NH = 2, I = 12, L = 2, P = 40, NB = 32, PAD = 1;
constexpr double EPS = 1e-5;

struct Model {
  std::map<std::string, std::vector<float>> w;
  std::vector<std::pair<std::string, Tensor>> tensors;
  void add(const std::string& n, Shape s, std::mt19937& rng, float scale, float offset = 0) {
    std::normal_distribution<float> d(0, scale);
    std::vector<float> v(static_cast<std::size_t>(shape_numel(s)));
    for (auto& x : v) x = offset + d(rng);
    w[n] = v;
    tensors.emplace_back(n, Tensor::from_vector(v, s));
  }
};

Model make_model(const fs::path& dir) {
  Model m;
  std::mt19937 rng(42);
  m.add("embeddings.word_embeddings.weight", {V, H}, rng, 0.5f);
  m.add("embeddings.position_embeddings.weight", {P, H}, rng, 0.5f);
  m.add("embeddings.LayerNorm.weight", {H}, rng, 0.1f, 1.0f);
  m.add("embeddings.LayerNorm.bias", {H}, rng, 0.1f);
  m.add("encoder.relative_attention_bias.weight", {NB, NH}, rng, 1.0f);
  for (int l = 0; l < L; ++l) {
    const std::string p = "encoder.layer." + std::to_string(l) + ".";
    for (const char* q : {"attention.attn.q", "attention.attn.k", "attention.attn.v", "attention.attn.o"}) {
      m.add(p + q + ".weight", {H, H}, rng, 0.4f);
      m.add(p + q + ".bias", {H}, rng, 0.1f);
    }
    m.add(p + "attention.LayerNorm.weight", {H}, rng, 0.1f, 1.0f);
    m.add(p + "attention.LayerNorm.bias", {H}, rng, 0.1f);
    m.add(p + "intermediate.dense.weight", {I, H}, rng, 0.4f);
    m.add(p + "intermediate.dense.bias", {I}, rng, 0.1f);
    m.add(p + "output.dense.weight", {H, I}, rng, 0.4f);
    m.add(p + "output.dense.bias", {H}, rng, 0.1f);
    m.add(p + "output.LayerNorm.weight", {H}, rng, 0.1f, 1.0f);
    m.add(p + "output.LayerNorm.bias", {H}, rng, 0.1f);
  }
  save_safetensors(dir / "model.safetensors", m.tensors);
  Json cfg = {{"architectures", {"MPNetModel"}},
              {"model_type", "mpnet"},
              {"vocab_size", V},
              {"hidden_size", H},
              {"num_hidden_layers", L},
              {"num_attention_heads", NH},
              {"intermediate_size", I},
              {"max_position_embeddings", P},
              {"relative_attention_num_buckets", NB},
              {"hidden_act", "gelu"},
              {"layer_norm_eps", EPS},
              {"pad_token_id", PAD}};
  write_text_file(dir / "config.json", cfg.dump());
  return m;
}

using Mat = std::vector<std::vector<double>>;  // [seq][dim]

Mat linear(const Mat& x, const std::vector<float>& w, const std::vector<float>& b, int in, int out) {
  Mat y(x.size(), std::vector<double>(out));
  for (std::size_t t = 0; t < x.size(); ++t)
    for (int o = 0; o < out; ++o) {
      double s = b[o];
      for (int i = 0; i < in; ++i) s += double(w[o * in + i]) * x[t][i];
      y[t][o] = s;
    }
  return y;
}

Mat layer_norm(const Mat& x, const std::vector<float>& g, const std::vector<float>& b) {
  Mat y = x;
  for (auto& r : y) {
    double mean = 0, var = 0;
    for (double v : r) mean += v;
    mean /= r.size();
    for (double v : r) var += (v - mean) * (v - mean);
    var /= r.size();
    for (std::size_t i = 0; i < r.size(); ++i) r[i] = (r[i] - mean) / std::sqrt(var + EPS) * g[i] + b[i];
  }
  return y;
}

int bucket(int rel) {
  int n = -rel, ret = 0;
  const int nb = NB / 2, max_exact = nb / 2;
  if (n < 0) ret += nb;
  n = std::abs(n);
  if (n < max_exact) return ret + n;
  int large = max_exact + static_cast<int>(static_cast<float>(std::log(static_cast<float>(n) / max_exact) /
                                                              std::log(128.0 / max_exact) * (nb - max_exact)));
  return ret + std::min(large, nb - 1);
}

// One sequence (mask: 1 keep / 0 pad).
Mat forward(Model& m, const std::vector<std::int64_t>& ids, const std::vector<std::int64_t>& mask) {
  const int S = static_cast<int>(ids.size());
  auto& W = m.w;
  Mat x(S, std::vector<double>(H));
  std::int64_t cum = 0;
  for (int t = 0; t < S; ++t) {
    const bool np = ids[t] != PAD;
    cum += np;
    const auto pos = np ? cum + PAD : PAD;
    for (int d = 0; d < H; ++d)
      x[t][d] = double(W["embeddings.word_embeddings.weight"][ids[t] * H + d]) +
                W["embeddings.position_embeddings.weight"][pos * H + d];
  }
  x = layer_norm(x, W["embeddings.LayerNorm.weight"], W["embeddings.LayerNorm.bias"]);
  const int D = H / NH;
  for (int l = 0; l < L; ++l) {
    const std::string p = "encoder.layer." + std::to_string(l) + ".";
    auto q = linear(x, W[p + "attention.attn.q.weight"], W[p + "attention.attn.q.bias"], H, H);
    auto k = linear(x, W[p + "attention.attn.k.weight"], W[p + "attention.attn.k.bias"], H, H);
    auto v = linear(x, W[p + "attention.attn.v.weight"], W[p + "attention.attn.v.bias"], H, H);
    Mat c(S, std::vector<double>(H, 0));
    for (int h = 0; h < NH; ++h)
      for (int i = 0; i < S; ++i) {
        std::vector<double> sc(S);
        double mx = -1e300;
        for (int j = 0; j < S; ++j) {
          double s = 0;
          for (int d = 0; d < D; ++d) s += q[i][h * D + d] * k[j][h * D + d];
          s = s / std::sqrt(double(D)) + W["encoder.relative_attention_bias.weight"][bucket(j - i) * NH + h];
          s += mask[j] ? 0.0 : double(std::numeric_limits<float>::lowest());
          sc[j] = s;
          mx = std::max(mx, s);
        }
        double z = 0;
        for (auto& s : sc) z += (s = std::exp(s - mx));
        for (int j = 0; j < S; ++j)
          for (int d = 0; d < D; ++d) c[i][h * D + d] += sc[j] / z * v[j][h * D + d];
      }
    auto o = linear(c, W[p + "attention.attn.o.weight"], W[p + "attention.attn.o.bias"], H, H);
    for (int t = 0; t < S; ++t)
      for (int d = 0; d < H; ++d) o[t][d] += x[t][d];
    auto a = layer_norm(o, W[p + "attention.LayerNorm.weight"], W[p + "attention.LayerNorm.bias"]);
    auto f = linear(a, W[p + "intermediate.dense.weight"], W[p + "intermediate.dense.bias"], H, I);
    for (auto& r : f)
      for (auto& e : r) e = 0.5 * e * (1 + std::erf(e / std::sqrt(2.0)));
    auto y = linear(f, W[p + "output.dense.weight"], W[p + "output.dense.bias"], I, H);
    for (int t = 0; t < S; ++t)
      for (int d = 0; d < H; ++d) y[t][d] += a[t][d];
    x = layer_norm(y, W[p + "output.LayerNorm.weight"], W[p + "output.LayerNorm.bias"]);
  }
  return x;
}

TEST(MPNet, MatchesReferenceForward) {
  const auto dir = ortformers::testing::make_temp_dir("mpnet");
  auto model = make_model(dir);
  // Two sequences of 20 tokens: the second is padded (pad id 1, mask 0) after 13 tokens; the first contains a pad
  // id inside the text (positions skip it, as transformers does).
  const int S = 20;
  std::vector<std::int64_t> ids, mask;
  std::mt19937 rng(3);
  std::uniform_int_distribution<int> tok(2, V - 1);
  for (int b = 0; b < 2; ++b)
    for (int t = 0; t < S; ++t) {
      const bool pad = b == 1 && t >= 13;
      ids.push_back(pad ? PAD : (b == 0 && t == 5 ? PAD : tok(rng)));
      mask.push_back(pad ? 0 : 1);
    }
  for (bool optimize : {false, true}) {
    ExportOptions o;
    o.optimize = optimize;
    auto built = build_model(dir, o);
    EXPECT_EQ(built.input_names, (std::vector<std::string>{"input_ids", "attention_mask"}));
    ortformers::testing::OrtRunner run(built.model);
    TensorMap feeds{{"input_ids", Tensor::from_vector(ids, {2, S})},
                    {"attention_mask", Tensor::from_vector(mask, {2, S})}};
    auto out = run.run(feeds).at("last_hidden_state").to_float_vector();
    double worst = 0;
    for (int b = 0; b < 2; ++b) {
      std::vector<std::int64_t> bi(ids.begin() + b * S, ids.begin() + (b + 1) * S),
          bm(mask.begin() + b * S, mask.begin() + (b + 1) * S);
      auto ref = forward(model, bi, bm);
      for (int t = 0; t < S; ++t)
        for (int d = 0; d < H; ++d) worst = std::max(worst, std::fabs(ref[t][d] - out[(b * S + t) * H + d]));
    }
    EXPECT_LT(worst, 1e-4) << (optimize ? "optimized" : "plain");
  }
}

}  // namespace
