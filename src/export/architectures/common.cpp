#include "export/architectures/common.hpp"

#include "ortformers/core/error.hpp"

namespace ortformers::exporters {

std::string bert_style_embeddings(BuildContext& ctx, const EncoderInputs& in, std::int64_t dim, bool padding_positions,
                                  const std::string& prefix) {
  const auto& c = ctx.config;
  auto& g = ctx.g;
  const std::string s = "/" + prefix;
  const auto vocab = c.require<std::int64_t>("vocab_size");
  const auto max_pos = c.require<std::int64_t>("max_position_embeddings");
  const auto types = c.get<std::int64_t>("type_vocab_size", 2);
  const auto eps = static_cast<float>(c.get<double>("layer_norm_eps", 1e-12));
  auto words = embedding(ctx, s + "/word_embeddings", in.input_ids, prefix + ".word_embeddings.weight", vocab, dim);
  std::string x = words;
  if (types > 0) {
    if (!in.token_type_ids.empty()) {
      x = g.node(s, "Add",
                 {x, embedding(ctx, s + "/token_type_embeddings", in.token_type_ids,
                               prefix + ".token_type_embeddings.weight", types, dim)});
    } else {
      // No token_type_ids input: transformers uses zeros, i.e. row 0 of the table for every token.
      const Tensor& t = ctx.w.get(prefix + ".token_type_embeddings.weight", {types, dim});
      auto table = ctx.weight(ctx.w.resolve(prefix + ".token_type_embeddings.weight"), t);
      auto row0 = g.node(s + "/token_type_embeddings", "Gather", {table, g.scalar_i64(0)}, {attr("axis", 0)});
      x = g.node(s, "Add", {x, row0});
    }
  }
  std::string pos_ids;
  if (padding_positions) {
    pos_ids = padded_positions(ctx, s + "/position_ids", in.input_ids, c.get<std::int64_t>("pad_token_id", 1));
  } else {
    pos_ids = range_positions(ctx, s + "/position_ids");
  }
  const auto pet = c.get<std::string>("position_embedding_type", "absolute");
  if (pet != "absolute")
    throw UnsupportedError(c.source() + ": position_embedding_type '" + pet +
                           "' is not supported by the exporter (only 'absolute')");
  x = g.node(
      s, "Add",
      {x, embedding(ctx, s + "/position_embeddings", pos_ids, prefix + ".position_embeddings.weight", max_pos, dim)});
  return layer_norm(ctx, s + "/LayerNorm", x, prefix + ".LayerNorm", dim, eps);
}

LayerDims bert_layer_dims(const config::PretrainedConfig& c) {
  LayerDims d;
  d.hidden = c.require<std::int64_t>("hidden_size");
  d.heads = c.require<std::int64_t>("num_attention_heads");
  d.intermediate = c.require<std::int64_t>("intermediate_size");
  d.eps = static_cast<float>(c.get<double>("layer_norm_eps", 1e-12));
  d.act = c.get<std::string>("hidden_act", "gelu");
  return d;
}

LayerNames bert_layer_names(const std::string& p) {
  LayerNames n;
  n.query = p + ".attention.self.query";
  n.key = p + ".attention.self.key";
  n.value = p + ".attention.self.value";
  n.attention_output = p + ".attention.output.dense";
  n.attention_layer_norm = p + ".attention.output.LayerNorm";
  n.intermediate = p + ".intermediate.dense";
  n.output = p + ".output.dense";
  n.output_layer_norm = p + ".output.LayerNorm";
  return n;
}

std::string bert_style_encoder(BuildContext& ctx, const std::string& x, const LayerDims& d, std::int64_t num_layers,
                               const std::string& prefix) {
  std::string h = x;
  for (std::int64_t i = 0; i < num_layers; ++i) {
    const std::string p = prefix + ".layer." + std::to_string(i);
    h = transformer_layer(ctx, "/" + prefix + "/layer." + std::to_string(i), h, bert_layer_names(p), d);
    if (ctx.on_progress) ctx.on_progress("layer " + std::to_string(i + 1) + "/" + std::to_string(num_layers));
  }
  return h;
}

std::vector<HeadOutput> qa_head(BuildContext& ctx, const std::string& hidden, std::int64_t H) {
  auto logits = linear(ctx, "/qa_outputs", hidden, "qa_outputs", H, 2, true);
  auto [s, e] = split_start_end(ctx, "/qa_outputs", logits);
  return {{"start_logits", s}, {"end_logits", e}};
}

std::string mlm_decoder(BuildContext& ctx, const std::string& scope, const std::string& x,
                        const config::PretrainedConfig& c, std::int64_t dim, const std::string& decoder_weight,
                        const std::vector<std::string>& bias_names, const std::string& word_embeddings) {
  const auto vocab = c.require<std::int64_t>("vocab_size");
  std::string bias;
  for (const auto& b : bias_names) {
    if (const Tensor* t = ctx.w.find_head(b)) {
      if (t->shape() != Shape{vocab})
        throw InvalidArgument("config/weights mismatch: tensor '" + b + "' has shape " + shape_to_string(t->shape()) +
                              " but config.json implies " + shape_to_string({vocab}));
      bias = ctx.weight(b, *t);
      break;
    }
  }
  const bool tie = c.get<bool>("tie_word_embeddings", true);
  const Tensor* own = ctx.w.find_head(decoder_weight);
  if (own != nullptr && !tie) {
    auto mm =
        ctx.g.node(scope, "MatMul", {x, ctx.weight_t(decoder_weight, ctx.w.get_head(decoder_weight, {vocab, dim}))});
    return bias.empty() ? mm : ctx.g.node(scope, "Add", {mm, bias});
  }
  const Tensor& emb = ctx.w.get(word_embeddings, {vocab, dim});
  auto init = ctx.weight(ctx.w.resolve(word_embeddings), emb);
  return tied_decoder(ctx, scope, x, init, bias);
}

std::vector<HeadOutput> roberta_style_head(BuildContext& ctx, const Architecture& arch, const std::string& task,
                                           const std::string& hidden) {
  const auto& c = ctx.config;
  const auto H = c.require<std::int64_t>("hidden_size");
  const auto labels = c.num_labels();
  if (task == "text-classification") {
    auto x = first_token(ctx, "/classifier", hidden);
    x = ctx.g.node("/classifier", "Tanh", {linear(ctx, "/classifier/dense", x, "classifier.dense", H, H, true)});
    return {{"logits", linear(ctx, "/classifier/out_proj", x, "classifier.out_proj", H, labels, true)}};
  }
  if (task == "multiple-choice") {
    auto pooled = first_token(ctx, "/pooler", hidden);
    pooled = ctx.g.node("/pooler/activation", "Tanh", {linear(ctx, "/pooler/dense", pooled, "pooler.dense", H, H)});
    return {{"logits", linear(ctx, "/classifier", pooled, "classifier", H, 1, true)}};
  }
  if (task == "token-classification")
    return {{"logits", linear(ctx, "/classifier", hidden, "classifier", H, labels, true)}};
  if (task == "question-answering") return qa_head(ctx, hidden, H);
  if (task == "fill-mask") {
    auto x = linear(ctx, "/lm_head/dense", hidden, "lm_head.dense", H, H, true);
    x = activation(ctx, "/lm_head/gelu", x, "gelu");
    x = layer_norm(ctx, "/lm_head/layer_norm", x, "lm_head.layer_norm", H,
                   static_cast<float>(c.get<double>("layer_norm_eps", 1e-12)), true);
    return {{"logits", mlm_decoder(ctx, "/lm_head/decoder", x, c, H, "lm_head.decoder.weight",
                                   {"lm_head.bias", "lm_head.decoder.bias"})}};
  }
  throw_unsupported_task(arch, task);
}

void throw_unsupported_task(const Architecture& a, const std::string& task) {
  std::string list;
  for (const auto& t : a.tasks()) list += (list.empty() ? "" : ", ") + t;
  throw UnsupportedError("task '" + task + "' is not supported for model_type '" + a.model_types().front() +
                         "' (supported: " + list + ")");
}

}  // namespace ortformers::exporters
