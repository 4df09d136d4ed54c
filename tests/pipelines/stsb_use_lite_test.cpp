// A real model on real data, end to end: the sentence-embeddings pipeline with use-lite-en (../shared/realmodels)
// over all 2758 sentences of the STS Benchmark English test split (../shared/data/stsb). Batched embeddings equal the
// one-sentence-at-a-time ones (<= 1e-5), and the Spearman correlation of the pairs' cosine similarity with the gold
// scores is 0.7227 (+- 0.0005), the figure of the reference stack (Rust tokenizers + ONNX Runtime, one sentence at a
// time). Under a sanitizer (CI's ASan+UBSan run, ~10x slower) the one-at-a-time pass covers every 8th pair only; the
// batched pass and the Spearman figure still cover the whole split.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <numeric>
#include <sstream>

#include "ortformers/pipelines/sentence_embeddings.hpp"
#include "support/fixtures.hpp"

using namespace ortformers;
namespace fs = std::filesystem;

namespace {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(undefined_behavior_sanitizer)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
#else
constexpr bool kSanitized = false;
#endif

struct StsPair {
  std::string s1, s2;
  double score = 0;
};

// One CSV record (RFC 4180: fields quoted when they hold commas or quotes, "" inside quotes).
std::vector<std::string> csv_fields(const std::string& line, const fs::path& file, std::size_t line_no) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        fields.back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        fields.back() += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.emplace_back();
    } else if (c != '\r') {
      fields.back() += c;
    }
  }
  if (quoted || fields.size() != 3) {
    ADD_FAILURE() << file << ":" << line_no << ": expected 3 CSV fields: " << line;
    return {};
  }
  return fields;
}

std::vector<StsPair> read_stsb(const fs::path& file) {
  std::ifstream in(file);
  EXPECT_TRUE(in.good()) << file;
  std::vector<StsPair> pairs;
  std::string line;
  std::size_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty()) continue;
    const auto f = csv_fields(line, file, n);
    if (f.empty()) continue;
    pairs.push_back({f[0], f[1], std::stod(f[2])});
  }
  return pairs;
}

// Ranks 1..n with ties given their average rank (scipy.stats.rankdata "average").
std::vector<double> average_ranks(const std::vector<double>& v) {
  std::vector<std::size_t> idx(v.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::stable_sort(idx.begin(), idx.end(), [&](std::size_t a, std::size_t b) { return v[a] < v[b]; });
  std::vector<double> rank(v.size());
  for (std::size_t i = 0; i < idx.size();) {
    std::size_t j = i;
    while (j + 1 < idx.size() && v[idx[j + 1]] == v[idx[i]]) ++j;
    const double r = (static_cast<double>(i) + static_cast<double>(j)) / 2.0 + 1.0;
    for (std::size_t k = i; k <= j; ++k) rank[idx[k]] = r;
    i = j + 1;
  }
  return rank;
}

// Spearman's rho: Pearson correlation of the average ranks.
double spearman(const std::vector<double>& a, const std::vector<double>& b) {
  const auto ra = average_ranks(a), rb = average_ranks(b);
  const double n = static_cast<double>(ra.size());
  const double ma = std::accumulate(ra.begin(), ra.end(), 0.0) / n, mb = std::accumulate(rb.begin(), rb.end(), 0.0) / n;
  double cov = 0, va = 0, vb = 0;
  for (std::size_t i = 0; i < ra.size(); ++i) {
    cov += (ra[i] - ma) * (rb[i] - mb);
    va += (ra[i] - ma) * (ra[i] - ma);
    vb += (rb[i] - mb) * (rb[i] - mb);
  }
  return cov / std::sqrt(va * vb);
}

double cosine(const float* a, const float* b, std::int64_t dim) {
  double ab = 0, aa = 0, bb = 0;
  for (std::int64_t i = 0; i < dim; ++i) {
    ab += double(a[i]) * b[i];
    aa += double(a[i]) * a[i];
    bb += double(b[i]) * b[i];
  }
  return ab / std::sqrt(aa * bb);
}

}  // namespace

TEST(StsBenchmark, UseLiteEnBatchedEqualsSingleAndSpearmanMatchesTheReference) {
  ORTFORMERS_REQUIRE_REALMODELS(realmodels);
  const fs::path csv = realmodels.parent_path() / "data" / "stsb" / "stsb-en-test.csv";
  ASSERT_TRUE(fs::exists(csv)) << csv;
  const auto pairs = read_stsb(csv);
  ASSERT_EQ(pairs.size(), 1379u);
  std::vector<std::string> sentences;
  for (const auto& p : pairs) {
    sentences.push_back(p.s1);
    sentences.push_back(p.s2);
  }
  ASSERT_EQ(sentences.size(), 2758u);

  auto pipe = pipelines::SentenceEmbeddingsPipeline::from_pretrained((realmodels / "use-lite-en").string());
  pipelines::EncodeOptions batched;
  batched.batch_size = 32;
  const Tensor emb = pipe->encode(sentences, batched);
  ASSERT_EQ(emb.shape(), (Shape{2758, 512}));
  const auto dim = emb.dim(1);
  const float* e = emb.data<float>();

  // Batched (length-sorted, padded batches of 32) == one sentence at a time.
  const std::size_t step = kSanitized ? 8 : 1;
  double max_diff = 0;
  std::size_t checked = 0;
  for (std::size_t p = 0; p < pairs.size(); p += step) {
    for (std::size_t s = 2 * p; s < 2 * p + 2; ++s) {
      const auto one = pipe->encode(sentences[s]);
      ASSERT_EQ(one.size(), static_cast<std::size_t>(dim));
      for (std::int64_t d = 0; d < dim; ++d)
        max_diff = std::max(max_diff, static_cast<double>(std::fabs(one[d] - e[s * dim + d])));
      ++checked;
    }
  }
  EXPECT_LE(max_diff, 1e-5) << "over " << checked << " sentences";

  std::vector<double> cos, gold;
  for (std::size_t p = 0; p < pairs.size(); ++p) {
    cos.push_back(cosine(e + 2 * p * dim, e + (2 * p + 1) * dim, dim));
    gold.push_back(pairs[p].score);
  }
  const double rho = spearman(cos, gold);
  EXPECT_NEAR(rho, 0.7227, 0.0005);
  std::cout << "STS-B test (1379 pairs): Spearman " << rho << "; batched vs single max |diff| " << max_diff << " over "
            << checked << " sentences\n";
}
