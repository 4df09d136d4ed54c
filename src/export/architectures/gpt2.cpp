// GPT-2 (transformers 4.31 modeling_gpt2.py): token + learned position embeddings, pre-LN blocks (ln_1, attention
// with the packed c_attn Conv1D, ln_2, MLP c_fc / c_proj), ln_f, and the LM head tied to wte (or lm_head.weight when
// the checkpoint has its own). Conv1D weights are stored [in, out]: MatMul operands as they are.
// Tasks: text-generation(-with-past) (decoder_family.hpp for the graph forms). The decoder stack is gpt2.hpp's, also
// used with cross-attention by the vision-encoder-decoder export.
#include "export/architectures/gpt2.hpp"

#include <cmath>

#include "export/architectures/common.hpp"
#include "ortformers/core/error.hpp"

namespace ortformers::exporters {

namespace {

// transformers' Conv1D: x @ weight [in, out] + bias [out].
std::string conv1d(BuildContext& ctx, const std::string& scope, const std::string& x, const std::string& prefix,
                   std::int64_t in, std::int64_t out) {
  auto& g = ctx.g;
  const std::string wn = prefix + ".weight", bn = prefix + ".bias";
  auto w = ctx.weight(ctx.w.resolve(wn), ctx.w.get(wn, {in, out}));
  auto b = ctx.weight(ctx.w.resolve(bn), ctx.w.get(bn, {out}));
  return g.node(scope, "Add", {b, g.node(scope, "MatMul", {x, w})});
}

// GPT2Attention with is_cross_attention: query from the decoder stream (q_attn), key / value from the encoder states
// (c_attn, split in two), no mask; returns the context [batch, new, E] before c_proj.
std::string cross_attention(BuildContext& ctx, const std::string& s, const std::string& p, const std::string& x,
                            const std::string& encoder_hidden_states, const Gpt2Settings& st, float divisor) {
  auto& g = ctx.g;
  const std::int64_t E = st.embed, H = st.heads, D = E / H;
  auto q = split_heads(ctx, s + "/query", conv1d(ctx, s + "/q_attn", x, p + ".q_attn", E, E), H, D);
  auto kv = conv1d(ctx, s + "/c_attn", encoder_hidden_states, p + ".c_attn", E, 2 * E);
  auto parts = g.node_n(s, "Split", {kv, g.const_i64({E, E})}, 2, {attr("axis", -1)});
  auto k = split_heads(ctx, s + "/key", parts[0], H, D);
  auto v = split_heads(ctx, s + "/value", parts[1], H, D);
  auto kt = g.node(s, "Transpose", {k}, {attr("perm", std::vector<std::int64_t>{0, 1, 3, 2})});
  auto scores = g.node(s, "MatMul", {q, kt});
  if (divisor != 1.0f) scores = g.node(s, "Div", {scores, g.scalar_f32(divisor)});
  auto probs = g.node(s, "Softmax", {scores}, {attr("axis", -1)});
  auto c = g.node(s, "MatMul", {probs, v});
  auto t = g.node(s, "Transpose", {c}, {attr("perm", std::vector<std::int64_t>{0, 2, 1, 3})});
  return g.node(s, "Reshape", {t, g.const_i64({0, 0, E})});
}

class Gpt2 : public DecoderArchitecture {
 public:
  Gpt2() : DecoderArchitecture("gpt2", "transformer", {"GPT2LMHeadModel", "GPT2Model"}) {}

  std::vector<GraphOutput> build_graph(BuildContext& ctx, const std::string& task) const override {
    if (task != "text-generation" && task != "text-generation-with-past") unsupported_task(task);
    const auto& c = ctx.config;
    const Gpt2Settings st = gpt2_settings(c);
    if (c.get<bool>("add_cross_attention", false))
      throw UnsupportedError(c.source() +
                             ": add_cross_attention true (the decoder of an encoder-decoder model) is not supported "
                             "by the text-generation export (export the encoder-decoder model, task image-to-text)");
    DecoderGraph dg = decoder_inputs(ctx, st.dims(), DecoderInputOrder::PastAfterInputIds);
    return decoder_outputs(dg, gpt2_logits(ctx, dg, st));
  }
};

}  // namespace

Gpt2Settings gpt2_settings(const config::PretrainedConfig& c) {
  Gpt2Settings s;
  s.embed = positive_config_int(c, {"n_embd", "hidden_size"});
  s.heads = positive_config_int(c, {"n_head", "num_attention_heads"});
  s.layers = positive_config_int(c, {"n_layer", "num_hidden_layers"});
  s.vocab = positive_config_int(c, {"vocab_size"});
  s.positions = positive_config_int(c, {"n_positions", "max_position_embeddings"});
  s.inner = positive_config_int(c, {"n_inner"}, 4 * s.embed);
  if (s.embed % s.heads != 0)
    throw InvalidArgument(c.source() + ": n_embd " + std::to_string(s.embed) + " is not a multiple of n_head " +
                          std::to_string(s.heads));
  s.eps = static_cast<float>(c.get<double>("layer_norm_epsilon", 1e-5));
  s.activation = c.get<std::string>("activation_function", "gelu_new");
  s.scale_attn_weights = c.get<bool>("scale_attn_weights", true);
  s.scale_attn_by_inverse_layer_idx = c.get<bool>("scale_attn_by_inverse_layer_idx", false);
  return s;
}

std::string gpt2_logits(BuildContext& ctx, DecoderGraph& dg, const Gpt2Settings& st,
                        const std::string& encoder_hidden_states) {
  auto& g = ctx.g;
  const std::int64_t E = st.embed, H = st.heads, L = st.layers, V = st.vocab, D = E / H;
  auto tok = embedding(ctx, "/transformer/wte", dg.input_ids, "wte.weight", V, E);
  auto pos = embedding(ctx, "/transformer/wpe", dg.position_ids, "wpe.weight", st.positions, E);
  auto h = g.node("/transformer", "Add", {tok, pos});

  for (std::int64_t l = 0; l < L; ++l) {
    const std::string p = "h." + std::to_string(l), s = "/transformer/h." + std::to_string(l);
    auto a = layer_norm(ctx, s + "/ln_1", h, p + ".ln_1", E, st.eps);
    auto qkv = conv1d(ctx, s + "/attn/c_attn", a, p + ".attn.c_attn", E, 3 * E);
    auto parts = g.node_n(s + "/attn", "Split", {qkv, g.const_i64({E, E, E})}, 3, {attr("axis", -1)});
    auto q = split_heads(ctx, s + "/attn/query", parts[0], H, D);
    auto k = split_heads(ctx, s + "/attn/key", parts[1], H, D);
    auto v = split_heads(ctx, s + "/attn/value", parts[2], H, D);
    auto [kk, vv] = decoder_cache(ctx, dg, l, s + "/attn", k, v);
    float divisor = st.scale_attn_weights ? std::sqrt(static_cast<float>(D)) : 1.0f;
    if (st.scale_attn_by_inverse_layer_idx) divisor *= static_cast<float>(l + 1);
    auto att = decoder_attention(ctx, dg, s + "/attn", q, kk, vv, divisor, DecoderMasking::Gpt2);
    auto o = conv1d(ctx, s + "/attn/c_proj", att, p + ".attn.c_proj", E, E);
    h = g.node(s, "Add", {o, h});
    if (!encoder_hidden_states.empty()) {
      const std::string cs = s + "/crossattention", cp = p + ".crossattention";
      auto x = layer_norm(ctx, s + "/ln_cross_attn", h, p + ".ln_cross_attn", E, st.eps);
      auto ctxv = cross_attention(ctx, cs, cp, x, encoder_hidden_states, st, divisor);
      h = g.node(s, "Add", {h, conv1d(ctx, cs + "/c_proj", ctxv, cp + ".c_proj", E, E)});
    }
    auto m = layer_norm(ctx, s + "/ln_2", h, p + ".ln_2", E, st.eps);
    m = conv1d(ctx, s + "/mlp/c_fc", m, p + ".mlp.c_fc", E, st.inner);
    m = activation(ctx, s + "/mlp/act", m, st.activation);
    m = conv1d(ctx, s + "/mlp/c_proj", m, p + ".mlp.c_proj", st.inner, E);
    h = g.node(s, "Add", {h, m});
    report_layer(ctx, l + 1, L);
  }
  h = layer_norm(ctx, "/transformer/ln_f", h, "ln_f", E, st.eps);

  // GPT2LMHeadModel ties lm_head to wte (save_pretrained keeps one of them; the loader restores the alias).
  const Tensor& wte = ctx.w.get("wte.weight", {V, E});
  const Tensor* head = ctx.w.find_head("lm_head.weight");
  if (head == nullptr || head->raw_data() == wte.raw_data())
    return tied_lm_head(ctx, h, ctx.w.resolve("wte.weight"), wte, ctx.weight(ctx.w.resolve("wte.weight"), wte));
  return linear(ctx, "/lm_head", h, "lm_head", E, V, true);
}

std::unique_ptr<Architecture> make_gpt2_architecture() {
  return std::make_unique<Gpt2>();
}

}  // namespace ortformers::exporters
