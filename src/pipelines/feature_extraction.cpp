#include "ortformers/pipelines/feature_extraction.hpp"

#include "ortformers/core/error.hpp"
#include "pipeline_inputs.hpp"

namespace ortformers::pipelines {

tokenizers::TokenizeOptions parse_tokenize_kwargs(const Json& kw, const std::string& task) {
  tokenizers::TokenizeOptions o;
  if (kw.is_null()) return o;
  if (!kw.is_object()) throw InvalidArgument(task + ": tokenize_kwargs must be a JSON object, got " + kw.dump());
  check_kwargs(kw,
               {"truncation", "max_length", "padding", "add_special_tokens", "stride", "pad_to_multiple_of",
                "return_overflowing_tokens"},
               task + " tokenize_kwargs");
  if (kw.contains("truncation")) {
    const Json& t = kw.at("truncation");
    if (t.is_boolean())
      o.truncation = t.get<bool>();
    else if (t.is_string() && (t == "longest_first" || t == "only_first" || t == "only_second"))
      o.truncation = true;
    else if (t.is_string() && t == "do_not_truncate")
      o.truncation = false;
    else if (!t.is_null())
      throw InvalidArgument(task + ": unsupported truncation value " + t.dump());
  }
  if (kw.contains("max_length") && !kw.at("max_length").is_null()) {
    const auto v = kwarg<std::int64_t>(kw, "max_length", 0);
    if (v <= 0) throw InvalidArgument(task + ": max_length must be positive, got " + std::to_string(v));
    o.max_length = static_cast<std::size_t>(v);
  }
  if (kw.contains("padding")) {
    const Json& p = kw.at("padding");
    if (p.is_boolean())
      o.padding = p.get<bool>() ? tokenizers::Padding::Longest : tokenizers::Padding::None;
    else if (p == "longest")
      o.padding = tokenizers::Padding::Longest;
    else if (p == "max_length")
      o.padding = tokenizers::Padding::MaxLength;
    else if (p == "do_not_pad")
      o.padding = tokenizers::Padding::None;
    else if (!p.is_null())
      throw InvalidArgument(task + ": unsupported padding value " + p.dump());
  }
  o.add_special_tokens = kwarg<bool>(kw, "add_special_tokens", true);
  const auto stride = kwarg<std::int64_t>(kw, "stride", 0);
  if (stride < 0) throw InvalidArgument(task + ": stride must be >= 0");
  o.stride = static_cast<std::size_t>(stride);
  if (kw.contains("pad_to_multiple_of") && !kw.at("pad_to_multiple_of").is_null()) {
    const auto v = kwarg<std::int64_t>(kw, "pad_to_multiple_of", 0);
    if (v <= 0) throw InvalidArgument(task + ": pad_to_multiple_of must be positive");
    o.pad_to_multiple_of = static_cast<std::size_t>(v);
  }
  o.return_overflowing_tokens = kwarg<bool>(kw, "return_overflowing_tokens", false);
  return o;
}

std::int64_t model_max_positions(const config::PretrainedConfig& config) {
  const auto n = config.get<std::int64_t>("max_position_embeddings", -1);
  if (n <= 0) return -1;
  // RoBERTa-family position ids start after padding_idx (create_position_ids_from_input_ids).
  const std::string& t = config.model_type();
  if (t == "roberta" || t == "xlm-roberta" || t == "camembert" || t == "longformer" || t == "mpnet") {
    return n - config.get<std::int64_t>("pad_token_id", 1) - 1;
  }
  return n;
}

void check_sequence_length(const tokenizers::BatchEncoding& enc, const config::PretrainedConfig& config,
                           const std::string& task) {
  const std::int64_t limit = model_max_positions(config);
  if (limit <= 0) return;
  for (const auto& e : enc.encodings) {
    const auto n = static_cast<std::int64_t>(e.ids.size());
    if (n > limit) {
      throw InvalidArgument(task + ": the input is " + std::to_string(n) +
                            " tokens long but the model accepts at most " + std::to_string(limit) +
                            " (max_position_embeddings in " + config.source() + "); pass truncation=true");
    }
  }
}

FeatureExtractionPipeline::FeatureExtractionPipeline(models::ORTModelForFeatureExtraction model,
                                                     tokenizers::PreTrainedTokenizer tokenizer)
    : model_(std::move(model)), tokenizer_(std::move(tokenizer)) {}

std::unique_ptr<FeatureExtractionPipeline> FeatureExtractionPipeline::from_pretrained(
    const std::string& model_id_or_path, const PipelineOptions& options) {
  auto model = models::ORTModelForFeatureExtraction::from_pretrained(model_id_or_path, options.model);
  auto tokenizer = load_tokenizer_for(model, options);
  return std::make_unique<FeatureExtractionPipeline>(std::move(model), std::move(tokenizer));
}

TensorMap FeatureExtractionPipeline::encode(const std::string& text, const FeatureExtractionOptions& options) const {
  tokenizers::TokenizeOptions t = options.tokenize;
  if (options.truncation) t.truncation = *options.truncation;
  auto enc = tokenizer_({text}, t);
  check_sequence_length(enc, model_.config(), task());
  return enc.to_tensors();
}

Tensor FeatureExtractionPipeline::operator()(const std::string& text, const FeatureExtractionOptions& options) const {
  return model_.forward(select_graph_inputs(encode(text, options), model_)).last_hidden_state;
}

std::vector<Tensor> FeatureExtractionPipeline::operator()(const std::vector<std::string>& texts,
                                                          const FeatureExtractionOptions& options) const {
  // One padded batch through the model, then each row cut back to its own length: the same values as one text at a
  // time (the padded positions are masked out), without B separate runs.
  std::vector<Tensor> out;
  if (texts.empty()) return out;
  tokenizers::TokenizeOptions t = options.tokenize;
  if (options.truncation) t.truncation = *options.truncation;
  const bool caller_pads = t.padding != tokenizers::Padding::None;  // then padded positions are part of the output
  if (!caller_pads) t.padding = tokenizers::Padding::Longest;
  auto enc = tokenizer_(texts, t);
  check_sequence_length(enc, model_.config(), task());
  Tensor hidden = model_.forward(select_graph_inputs(enc.to_tensors(), model_)).last_hidden_state;
  if (hidden.dtype() != DType::Float32) hidden = hidden.to(DType::Float32);
  const std::int64_t S = hidden.dim(1), H = hidden.dim(2);
  out.reserve(texts.size());
  for (std::size_t b = 0; b < enc.encodings.size(); ++b) {
    const auto& mask = enc.encodings[b].attention_mask;
    // Keep every position up to the last attended one (left padding keeps its leading pads, as a single run
    // would not have them: strip those too).
    std::int64_t first = 0, last = -1;
    for (std::size_t i = 0; i < mask.size(); ++i)
      if (mask[i]) last = static_cast<std::int64_t>(i);
    for (std::size_t i = 0; i < mask.size() && !mask[i]; ++i) first = static_cast<std::int64_t>(i) + 1;
    if (last < first) first = 0, last = -1;
    if (caller_pads) first = 0, last = S - 1;
    const std::int64_t n = last - first + 1;
    std::vector<float> row(static_cast<std::size_t>(n * H));
    const float* src = hidden.data<float>() + (static_cast<std::int64_t>(b) * S + first) * H;
    std::copy(src, src + n * H, row.begin());
    out.push_back(Tensor::from_vector(std::move(row), {1, n, H}));
  }
  return out;
}

Json tensor_to_nested_json(const Tensor& t) {
  const std::vector<float> v = t.to_float_vector();
  const Shape& shape = t.shape();
  // Recursive build over dimensions.
  std::function<Json(std::size_t, std::size_t)> build = [&](std::size_t dim, std::size_t offset) -> Json {
    Json arr = Json::array();
    if (dim == shape.size()) return Json(v[offset]);
    std::size_t stride = 1;
    for (std::size_t d = dim + 1; d < shape.size(); ++d) stride *= static_cast<std::size_t>(shape[d]);
    for (std::int64_t i = 0; i < shape[dim]; ++i)
      arr.push_back(build(dim + 1, offset + static_cast<std::size_t>(i) * stride));
    return arr;
  };
  return build(0, 0);
}

Json FeatureExtractionPipeline::call(const Json& input, const Json& kwargs) {
  check_kwargs(kwargs, {"truncation", "tokenize_kwargs", "return_tensors"}, task());
  FeatureExtractionOptions options;
  if (kwargs.is_object() && kwargs.contains("tokenize_kwargs")) {
    options.tokenize = parse_tokenize_kwargs(kwargs.at("tokenize_kwargs"), task());
  }
  if (kwargs.is_object() && kwargs.contains("truncation") && !kwargs.at("truncation").is_null()) {
    const Json& t = kwargs.at("truncation");
    options.truncation = t.is_boolean() ? t.get<bool>() : t != "do_not_truncate";
  }
  if (input.is_array()) {
    Json out = Json::array();
    for (const auto& item : input) out.push_back(call(item, kwargs));
    return out;
  }
  const std::string text = text_input(input, task(), {"inputs", "text"});
  return tensor_to_nested_json((*this)(text, options));
}

ORTFORMERS_REGISTER_PIPELINE("feature-extraction",
                             [](const std::string& model, const PipelineOptions& options) -> std::unique_ptr<Pipeline> {
                               return FeatureExtractionPipeline::from_pretrained(model, options);
                             });

}  // namespace ortformers::pipelines
