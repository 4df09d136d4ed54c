#include "ortformers/models/audio_xvector.hpp"
#include <algorithm>
#include <cmath>

#include "ortformers/core/error.hpp"

namespace ortformers::models {

ORTModelForAudioXVector ORTModelForAudioXVector::from_pretrained(const std::string& model_id_or_path,
                                                                 const ModelOptions& options) {
  return load_pretrained<ORTModelForAudioXVector>(model_id_or_path, options, "audio-xvector");
}

XVectorOutput ORTModelForAudioXVector::forward(const TensorMap& inputs) const {
  TensorMap outputs = run(audio_feed(inputs));
  XVectorOutput out;
  out.logits = take_output(outputs, "logits");
  out.embeddings = take_output(outputs, "embeddings");
  return out;
}

float cosine_similarity(std::span<const float> a, std::span<const float> b) {
  if (a.size() != b.size() || a.empty())
    throw InvalidArgument("cosine_similarity: embeddings must have the same non-zero size (" +
                          std::to_string(a.size()) + " vs " + std::to_string(b.size()) + ")");
  double dot = 0, na = 0, nb = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    dot += static_cast<double>(a[i]) * b[i];
    na += static_cast<double>(a[i]) * a[i];
    nb += static_cast<double>(b[i]) * b[i];
  }
  constexpr double eps = 1e-8;
  return static_cast<float>(dot / std::max(std::sqrt(na) * std::sqrt(nb), eps));
}

Tensor normalize_embeddings(const Tensor& embeddings) {
  if (embeddings.rank() != 2) throw InvalidArgument("normalize_embeddings: expected [batch, dim]");
  auto v = embeddings.to_float_vector();
  const auto dim = static_cast<std::size_t>(embeddings.dim(1));
  for (std::size_t r = 0; dim && r < v.size() / dim; ++r) {
    double n = 0;
    for (std::size_t i = 0; i < dim; ++i) n += static_cast<double>(v[r * dim + i]) * v[r * dim + i];
    const double d = std::max(std::sqrt(n), 1e-12);
    for (std::size_t i = 0; i < dim; ++i) v[r * dim + i] = static_cast<float>(v[r * dim + i] / d);
  }
  return Tensor::from_vector(std::move(v), embeddings.shape());
}

}  // namespace ortformers::models
