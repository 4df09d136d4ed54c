#include "export/architectures/common.hpp"

#include <algorithm>

#include "ortformers/core/error.hpp"

namespace ortformers::exporters {

std::string module_scope(const std::string& module) {
  std::string s = "/" + module;
  std::replace(s.begin(), s.end(), '.', '/');
  return s;
}

std::string text_embeddings(BuildContext& ctx, const EncoderInputs& in, const EmbeddingsLayout& layout) {
  const auto& c = ctx.config;
  auto& g = ctx.g;
  const std::string& prefix = layout.prefix;
  const std::int64_t dim = layout.dim;
  const std::string s = "/" + prefix;
  const auto vocab = c.require<std::int64_t>("vocab_size");
  const auto max_pos = c.require<std::int64_t>("max_position_embeddings");
  const auto types = layout.token_types ? c.get<std::int64_t>("type_vocab_size", 2) : 0;
  const auto eps = layout.eps ? *layout.eps : static_cast<float>(c.get<double>("layer_norm_eps", 1e-12));
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
  if (layout.padding_positions) {
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

std::string bert_style_embeddings(BuildContext& ctx, const EncoderInputs& in, std::int64_t dim, bool padding_positions,
                                  const std::string& prefix) {
  return text_embeddings(ctx, in, {.dim = dim, .padding_positions = padding_positions, .prefix = prefix});
}

const LayerLayout& bert_layer_layout() {
  static const LayerLayout layout{
      ".attention.self.query",       ".attention.self.key", ".attention.self.value", ".attention.output.dense",
      ".attention.output.LayerNorm", ".intermediate.dense", ".output.dense",         ".output.LayerNorm"};
  return layout;
}

LayerNames layer_names(const std::string& p, const LayerLayout& l) {
  LayerNames n;
  n.query = p + l.query;
  n.key = p + l.key;
  n.value = p + l.value;
  n.attention_output = p + l.attention_output;
  n.attention_layer_norm = p + l.attention_layer_norm;
  n.intermediate = p + l.intermediate;
  n.output = p + l.output;
  n.output_layer_norm = p + l.output_layer_norm;
  return n;
}

LayerNames bert_layer_names(const std::string& p) {
  return layer_names(p, bert_layer_layout());
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

void report_layer(BuildContext& ctx, std::int64_t done, std::int64_t total) {
  if (ctx.on_progress) ctx.on_progress("layer " + std::to_string(done) + "/" + std::to_string(total));
}

std::string bert_style_encoder(BuildContext& ctx, const std::string& x, const LayerDims& d, std::int64_t num_layers,
                               const std::string& prefix, const LayerLayout& layout, const std::string& position_bias) {
  std::string h = x;
  for (std::int64_t i = 0; i < num_layers; ++i) {
    const std::string p = prefix + ".layer." + std::to_string(i);
    h = transformer_layer(ctx, "/" + prefix + "/layer." + std::to_string(i), h, layer_names(p, layout), d,
                          position_bias);
    report_layer(ctx, i + 1, num_layers);
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

std::string classifier_head(BuildContext& ctx, const std::string& hidden, std::int64_t H, std::int64_t outputs,
                            const ClassifierHeadLayout& l) {
  auto x = first_token(ctx, l.scope, hidden);
  x = linear(ctx, module_scope(l.dense), x, l.dense, H, H, !l.dense_in_base_model);
  x = activation(ctx, l.activation_scope, x, l.activation);
  return linear(ctx, module_scope(l.output), x, l.output, H, outputs, true);
}

std::string masked_lm_head(BuildContext& ctx, const std::string& hidden, std::int64_t H, const MaskedLmHeadLayout& l) {
  auto x = linear(ctx, module_scope(l.dense), hidden, l.dense, H, l.dim, true);
  x = activation(ctx, l.activation_scope, x, l.activation);
  x = layer_norm(ctx, module_scope(l.layer_norm), x, l.layer_norm, l.dim, l.eps, true);
  const std::string decoder = l.decoder_weight.substr(0, l.decoder_weight.rfind('.'));
  return mlm_decoder(ctx, module_scope(decoder), x, ctx.config, l.dim, l.decoder_weight, l.bias_names);
}

std::vector<HeadOutput> encoder_head(BuildContext& ctx, const Architecture& arch, const std::string& task,
                                     const std::string& hidden, std::int64_t H, const EncoderHeads& heads) {
  if (task == "text-classification")
    return {{"logits", classifier_head(ctx, hidden, H, ctx.config.num_labels(), heads.classification)}};
  if (task == "multiple-choice")
    return {{"logits", classifier_head(ctx, hidden, H, 1, heads.multiple_choice.value_or(heads.classification))}};
  if (task == "token-classification")
    return {{"logits", linear(ctx, "/classifier", hidden, "classifier", H, ctx.config.num_labels(), true)}};
  if (task == "question-answering") return qa_head(ctx, hidden, H);
  if (task == "fill-mask") return {{"logits", masked_lm_head(ctx, hidden, H, heads.masked_lm)}};
  throw_unsupported_task(arch, task);
}

std::vector<HeadOutput> roberta_style_head(BuildContext& ctx, const Architecture& arch, const std::string& task,
                                           const std::string& hidden) {
  const auto& c = ctx.config;
  const auto H = c.require<std::int64_t>("hidden_size");
  EncoderHeads heads;
  heads.classification = {.scope = "/classifier",
                          .dense = "classifier.dense",
                          .activation_scope = "/classifier",
                          .activation = "tanh",
                          .output = "classifier.out_proj"};
  heads.multiple_choice = ClassifierHeadLayout{.scope = "/pooler",
                                               .dense = "pooler.dense",
                                               .dense_in_base_model = true,
                                               .activation_scope = "/pooler/activation",
                                               .activation = "tanh"};
  heads.masked_lm = {.dense = "lm_head.dense",
                     .activation_scope = "/lm_head/gelu",
                     .activation = "gelu",
                     .layer_norm = "lm_head.layer_norm",
                     .dim = H,
                     .eps = static_cast<float>(c.get<double>("layer_norm_eps", 1e-12)),
                     .decoder_weight = "lm_head.decoder.weight",
                     .bias_names = {"lm_head.bias", "lm_head.decoder.bias"}};
  return encoder_head(ctx, arch, task, hidden, H, heads);
}

void throw_unsupported_task(const Architecture& a, const std::string& task) {
  std::string list;
  for (const auto& t : a.tasks()) list += (list.empty() ? "" : ", ") + t;
  throw UnsupportedError("task '" + task + "' is not supported for model_type '" + a.model_types().front() +
                         "' (supported: " + list + ")");
}

}  // namespace ortformers::exporters
