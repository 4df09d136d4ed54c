#include "ortformers/pipelines/sentence_embeddings.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "ortformers/core/error.hpp"
#include "ortformers/pipelines/feature_extraction.hpp"
#include "pipeline_inputs.hpp"

namespace ortformers::pipelines {

SentenceEmbeddingsPipeline::SentenceEmbeddingsPipeline(models::ORTModelForFeatureExtraction model,
                                                       tokenizers::PreTrainedTokenizer tokenizer,
                                                       SentenceTransformerConfig st_config)
    : model_(std::move(model)), tokenizer_(std::move(tokenizer)), st_(std::move(st_config)) {
  // sentence-transformers' Transformer module: max_seq_length from sentence_bert_config.json, else
  // min(max_position_embeddings, tokenizer.model_max_length).
  if (st_.max_seq_length > 0) {
    max_seq_length_ = st_.max_seq_length;
  } else {
    std::int64_t m = static_cast<std::int64_t>(std::min<std::size_t>(tokenizer_.model_max_length(), 1u << 30));
    const auto pos = model_.config().get<std::int64_t>("max_position_embeddings", -1);
    if (pos > 0) m = std::min(m, pos);
    max_seq_length_ = m;
  }
}

std::unique_ptr<SentenceEmbeddingsPipeline> SentenceEmbeddingsPipeline::from_pretrained(
    const std::string& model_id_or_path, const PipelineOptions& options) {
  auto model = models::ORTModelForFeatureExtraction::from_pretrained(model_id_or_path, options.model);
  auto tokenizer = load_tokenizer_for(model, options);
  // sentence-transformers files: in the model folder, else in the tokenizer folder (optimum's ONNX folders do not
  // carry modules.json / 1_Pooling).
  auto st = SentenceTransformerConfig::from_pretrained(model.model_dir());
  if (!st.present && !options.tokenizer.empty() && std::filesystem::is_directory(options.tokenizer)) {
    st = SentenceTransformerConfig::from_pretrained(options.tokenizer);
  }
  return std::make_unique<SentenceEmbeddingsPipeline>(std::move(model), std::move(tokenizer), std::move(st));
}

bool SentenceEmbeddingsPipeline::uses_graph_pooling(const EncodeOptions& options) const {
  // The graph's sentence_embedding already holds the exported model's pooling + Normalize: use it unless the caller
  // overrides pooling or normalisation, in which case pool the token embeddings here.
  return model_.session().has_output("sentence_embedding") && !options.pooling && !options.normalize;
}

Tensor SentenceEmbeddingsPipeline::embed(const TensorMap& inputs, const EncodeOptions& options,
                                         Tensor* token_embeddings) const {
  const TensorMap graph_inputs = select_graph_inputs(inputs, model_);
  auto out = model_.forward(graph_inputs);
  if (token_embeddings) {
    *token_embeddings = out.last_hidden_state;
    if (token_embeddings->dtype() != DType::Float32) *token_embeddings = token_embeddings->to(DType::Float32);
  }
  Tensor emb;
  if (uses_graph_pooling(options)) {
    emb = out.others.at("sentence_embedding");
    if (emb.dtype() != DType::Float32) emb = emb.to(DType::Float32);
    return emb;
  }
  PoolingConfig pooling = st_.pooling;
  if (options.pooling) pooling.modes = {*options.pooling};
  Tensor hidden = out.last_hidden_state;
  if (hidden.dtype() != DType::Float32) hidden = hidden.to(DType::Float32);
  emb = pool(hidden, graph_inputs.at("attention_mask"), pooling);
  if (options.normalize.value_or(st_.normalize)) l2_normalize_rows(emb);
  return emb;
}

Tensor SentenceEmbeddingsPipeline::encode(const std::vector<std::string>& texts, const EncodeOptions& options) const {
  if (options.batch_size == 0) throw InvalidArgument("sentence-embeddings: batch_size must be positive");

  // sentence-transformers sorts by length (longest first) to pad less, then restores the input order.
  std::vector<std::size_t> order(texts.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return texts[a].size() > texts[b].size(); });

  tokenizers::TokenizeOptions t;
  t.truncation = true;
  t.max_length = static_cast<std::size_t>(max_seq_length_);
  t.padding = tokenizers::Padding::Longest;

  std::int64_t dim = -1;
  std::vector<float> result;
  for (std::size_t start = 0; start < order.size(); start += options.batch_size) {
    const std::size_t end = std::min(order.size(), start + options.batch_size);
    std::vector<std::string> batch;
    for (std::size_t i = start; i < end; ++i) {
      std::string s = python_strip(texts[order[i]]);
      if (st_.do_lower_case)
        std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
      batch.push_back(std::move(s));
    }
    auto enc = tokenizer_(batch, t);
    const Tensor emb = embed(enc.to_tensors(), options);
    if (dim < 0) {
      dim = emb.dim(1);
      result.assign(texts.size() * static_cast<std::size_t>(dim), 0.f);
    }
    const float* src = emb.data<float>();
    for (std::size_t i = start; i < end; ++i) {
      std::copy(src + (i - start) * dim, src + (i - start + 1) * dim, result.begin() + order[i] * dim);
    }
  }
  if (dim < 0) dim = 0;
  return Tensor::from_vector(std::move(result), {static_cast<std::int64_t>(texts.size()), dim});
}

std::vector<float> SentenceEmbeddingsPipeline::encode(const std::string& text, const EncodeOptions& options) const {
  return encode(std::vector<std::string>{text}, options).to_vector<float>();
}

EncodeOptions SentenceEmbeddingsPipeline::parse_options(const Json& kwargs) const {
  check_kwargs(kwargs, {"pooling", "normalize", "batch_size"}, task());
  EncodeOptions o;
  if (kwargs.is_object() && kwargs.contains("pooling") && !kwargs.at("pooling").is_null()) {
    o.pooling = pooling_mode_from_string(kwarg<std::string>(kwargs, "pooling", "mean"));
  }
  if (kwargs.is_object() && kwargs.contains("normalize") && !kwargs.at("normalize").is_null()) {
    o.normalize = kwarg<bool>(kwargs, "normalize", false);
  }
  const auto bs = kwarg<std::int64_t>(kwargs, "batch_size", 32);
  if (bs <= 0) throw InvalidArgument("sentence-embeddings: batch_size must be positive, got " + std::to_string(bs));
  o.batch_size = static_cast<std::size_t>(bs);
  return o;
}

Json SentenceEmbeddingsPipeline::call(const Json& input, const Json& kwargs) {
  const EncodeOptions o = parse_options(kwargs);
  if (input.is_array()) {
    std::vector<std::string> texts;
    for (const auto& i : input) texts.push_back(text_input(i, task(), {"text", "sentence", "inputs"}));
    Tensor e = encode(texts, o);
    Json out = Json::array();
    const float* d = e.data<float>();
    for (std::int64_t r = 0; r < e.dim(0); ++r)
      out.push_back(std::vector<float>(d + r * e.dim(1), d + (r + 1) * e.dim(1)));
    return out;
  }
  return encode(text_input(input, task(), {"text", "sentence", "inputs"}), o);
}

std::vector<Json> SentenceEmbeddingsPipeline::call_batch(const std::vector<Json>& inputs, const Json& kwargs) {
  // Batch the whole input list through the model, as SentenceTransformer.encode does.
  bool all_strings = std::all_of(inputs.begin(), inputs.end(), [](const Json& j) { return !j.is_array(); });
  if (!all_strings) return Pipeline::call_batch(inputs, kwargs);
  const EncodeOptions o = parse_options(kwargs);
  std::vector<std::string> texts;
  for (const auto& i : inputs) texts.push_back(text_input(i, task(), {"text", "sentence", "inputs"}));
  Tensor e = encode(texts, o);
  std::vector<Json> out;
  const float* d = e.data<float>();
  for (std::int64_t r = 0; r < e.dim(0); ++r)
    out.emplace_back(std::vector<float>(d + r * e.dim(1), d + (r + 1) * e.dim(1)));
  return out;
}

Tensor cos_sim(const Tensor& a, const Tensor& b) {
  if (a.rank() != 2 || b.rank() != 2 || a.dim(1) != b.dim(1)) {
    throw InvalidArgument("cos_sim needs [N, D] and [M, D], got " + shape_to_string(a.shape()) + " and " +
                          shape_to_string(b.shape()));
  }
  Tensor an = a.to(DType::Float32).clone(), bn = b.to(DType::Float32).clone();
  l2_normalize_rows(an);
  l2_normalize_rows(bn);
  const std::int64_t N = a.dim(0), M = b.dim(0), D = a.dim(1);
  Tensor out = Tensor::zeros(DType::Float32, {N, M});
  for (std::int64_t i = 0; i < N; ++i)
    for (std::int64_t j = 0; j < M; ++j) {
      double s = 0;
      for (std::int64_t k = 0; k < D; ++k)
        s += static_cast<double>(an.data<float>()[i * D + k]) * bn.data<float>()[j * D + k];
      out.data<float>()[i * M + j] = static_cast<float>(s);
    }
  return out;
}

ORTFORMERS_REGISTER_PIPELINE("sentence-embeddings",
                             [](const std::string& model, const PipelineOptions& options) -> std::unique_ptr<Pipeline> {
                               return SentenceEmbeddingsPipeline::from_pretrained(model, options);
                             },
                             {"sentence-similarity"});

}  // namespace ortformers::pipelines
