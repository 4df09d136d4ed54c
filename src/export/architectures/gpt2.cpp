// GPT-2 (transformers 4.31 modeling_gpt2.py): token + learned position embeddings, pre-LN blocks (ln_1, attention
// with the packed c_attn Conv1D, ln_2, MLP c_fc / c_proj), ln_f, and the LM head tied to wte (or lm_head.weight when
// the checkpoint has its own). Conv1D weights are stored [in, out]: MatMul operands as they are.
// Tasks: text-generation(-with-past) (decoder_family.hpp for the graph forms).
#include <cmath>

#include "export/architectures/common.hpp"
#include "export/architectures/decoder_family.hpp"
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

class Gpt2 : public DecoderArchitecture {
 public:
  Gpt2() : DecoderArchitecture("gpt2", "transformer", {"GPT2LMHeadModel", "GPT2Model"}) {}

  std::vector<GraphOutput> build_graph(BuildContext& ctx, const std::string& task) const override {
    if (task != "text-generation" && task != "text-generation-with-past") unsupported_task(task);
    auto& g = ctx.g;
    const auto& c = ctx.config;
    const std::int64_t E = positive_config_int(c, {"n_embd", "hidden_size"});
    const std::int64_t H = positive_config_int(c, {"n_head", "num_attention_heads"});
    const std::int64_t L = positive_config_int(c, {"n_layer", "num_hidden_layers"});
    const std::int64_t V = positive_config_int(c, {"vocab_size"});
    const std::int64_t NP = positive_config_int(c, {"n_positions", "max_position_embeddings"});
    const std::int64_t inner = positive_config_int(c, {"n_inner"}, 4 * E);
    if (E % H != 0)
      throw InvalidArgument(c.source() + ": n_embd " + std::to_string(E) + " is not a multiple of n_head " +
                            std::to_string(H));
    if (c.get<bool>("add_cross_attention", false))
      throw UnsupportedError(c.source() +
                             ": add_cross_attention true (the decoder of an encoder-decoder model) is not supported "
                             "by the text-generation export");
    const auto eps = static_cast<float>(c.get<double>("layer_norm_epsilon", 1e-5));
    const std::string act = c.get<std::string>("activation_function", "gelu_new");
    const bool scale_weights = c.get<bool>("scale_attn_weights", true);
    const bool by_layer = c.get<bool>("scale_attn_by_inverse_layer_idx", false);
    const std::int64_t D = E / H;

    DecoderGraph dg = decoder_inputs(ctx, {L, H, H, D, V}, DecoderInputOrder::PastAfterInputIds);
    auto tok = embedding(ctx, "/transformer/wte", dg.input_ids, "wte.weight", V, E);
    auto pos = embedding(ctx, "/transformer/wpe", dg.position_ids, "wpe.weight", NP, E);
    auto h = g.node("/transformer", "Add", {tok, pos});

    for (std::int64_t l = 0; l < L; ++l) {
      const std::string p = "h." + std::to_string(l), s = "/transformer/h." + std::to_string(l);
      auto a = layer_norm(ctx, s + "/ln_1", h, p + ".ln_1", E, eps);
      auto qkv = conv1d(ctx, s + "/attn/c_attn", a, p + ".attn.c_attn", E, 3 * E);
      auto parts = g.node_n(s + "/attn", "Split", {qkv, g.const_i64({E, E, E})}, 3, {attr("axis", -1)});
      auto q = split_heads(ctx, s + "/attn/query", parts[0], H, D);
      auto k = split_heads(ctx, s + "/attn/key", parts[1], H, D);
      auto v = split_heads(ctx, s + "/attn/value", parts[2], H, D);
      auto [kk, vv] = decoder_cache(ctx, dg, l, s + "/attn", k, v);
      float divisor = scale_weights ? std::sqrt(static_cast<float>(D)) : 1.0f;
      if (by_layer) divisor *= static_cast<float>(l + 1);
      auto att = decoder_attention(ctx, dg, s + "/attn", q, kk, vv, divisor, DecoderMasking::Gpt2);
      auto o = conv1d(ctx, s + "/attn/c_proj", att, p + ".attn.c_proj", E, E);
      h = g.node(s, "Add", {o, h});
      auto m = layer_norm(ctx, s + "/ln_2", h, p + ".ln_2", E, eps);
      m = conv1d(ctx, s + "/mlp/c_fc", m, p + ".mlp.c_fc", E, inner);
      m = activation(ctx, s + "/mlp/act", m, act);
      m = conv1d(ctx, s + "/mlp/c_proj", m, p + ".mlp.c_proj", inner, E);
      h = g.node(s, "Add", {h, m});
      report_layer(ctx, l + 1, L);
    }
    h = layer_norm(ctx, "/transformer/ln_f", h, "ln_f", E, eps);

    // GPT2LMHeadModel ties lm_head to wte (save_pretrained keeps one of them; the loader restores the alias).
    const Tensor& wte = ctx.w.get("wte.weight", {V, E});
    const Tensor* head = ctx.w.find_head("lm_head.weight");
    std::string logits;
    if (head == nullptr || head->raw_data() == wte.raw_data())
      logits = tied_lm_head(ctx, h, ctx.w.resolve("wte.weight"), wte, ctx.weight(ctx.w.resolve("wte.weight"), wte));
    else
      logits = linear(ctx, "/lm_head", h, "lm_head", E, V, true);
    return decoder_outputs(dg, logits);
  }
};

}  // namespace

std::unique_ptr<Architecture> make_gpt2_architecture() {
  return std::make_unique<Gpt2>();
}

}  // namespace ortformers::exporters
