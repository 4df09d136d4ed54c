#include "support/llama_checkpoint.hpp"

#include <random>
#include <stdexcept>

#include "ortformers/core/json.hpp"
#include "ortformers/export/safetensors_writer.hpp"

namespace ortformers::bench {

namespace fs = std::filesystem;

const Tensor& LlamaBenchWeights::at(const std::string& name) const {
  for (const auto& [n, t] : tensors)
    if (n == name) return t;
  throw std::runtime_error("llama bench weights: no tensor " + name);
}

std::int64_t LlamaBenchWeights::parameters() const {
  std::int64_t n = 0;
  for (const auto& [name, t] : tensors) n += t.numel();
  return n;
}

LlamaBenchWeights make_llama_bench_weights(const LlamaBenchShape& s, unsigned seed) {
  LlamaBenchWeights w;
  w.shape = s;
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  auto add = [&](const std::string& name, Shape shape, float mean, float std) {
    std::vector<float> v(static_cast<std::size_t>(shape_numel(shape)));
    for (auto& x : v) x = mean + std * normal(rng);
    w.tensors.emplace_back(name, Tensor::from_vector(std::move(v), std::move(shape)));
  };
  const std::int64_t E = s.hidden, D = s.head_dim(), I = s.intermediate;
  add("model.embed_tokens.weight", {s.vocab, E}, 0.0f, 1.0f);
  for (std::int64_t l = 0; l < s.layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    add(p + "input_layernorm.weight", {E}, 1.0f, 0.1f);
    add(p + "self_attn.q_proj.weight", {s.heads * D, E}, 0.0f, 0.05f);
    add(p + "self_attn.k_proj.weight", {s.kv_heads * D, E}, 0.0f, 0.05f);
    add(p + "self_attn.v_proj.weight", {s.kv_heads * D, E}, 0.0f, 0.05f);
    add(p + "self_attn.o_proj.weight", {E, s.heads * D}, 0.0f, 0.05f);
    add(p + "post_attention_layernorm.weight", {E}, 1.0f, 0.1f);
    add(p + "mlp.gate_proj.weight", {I, E}, 0.0f, 0.05f);
    add(p + "mlp.up_proj.weight", {I, E}, 0.0f, 0.05f);
    add(p + "mlp.down_proj.weight", {E, I}, 0.0f, 0.05f);
  }
  add("model.norm.weight", {E}, 1.0f, 0.1f);
  add("lm_head.weight", {s.vocab, E}, 0.0f, 0.1f);
  return w;
}

void write_llama_checkpoint(const fs::path& dir, const LlamaBenchWeights& w, const fs::path& tokenizer_model) {
  fs::create_directories(dir);
  const auto& s = w.shape;
  exporters::save_safetensors(dir / "model.safetensors", w.tensors, {{"format", "pt"}});
  const Json cfg = {{"architectures", {"LlamaForCausalLM"}},
                    {"model_type", "llama"},
                    {"bos_token_id", 1},
                    {"eos_token_id", 2},
                    {"hidden_act", "silu"},
                    {"hidden_size", s.hidden},
                    {"initializer_range", 0.02},
                    {"intermediate_size", s.intermediate},
                    {"max_position_embeddings", s.max_positions},
                    {"num_attention_heads", s.heads},
                    {"num_hidden_layers", s.layers},
                    {"num_key_value_heads", s.kv_heads},
                    {"pad_token_id", nullptr},
                    {"pretraining_tp", 1},
                    {"rms_norm_eps", s.rms_norm_eps},
                    {"rope_scaling", nullptr},
                    {"rope_theta", s.rope_theta},
                    {"tie_word_embeddings", false},
                    {"torch_dtype", "float32"},
                    {"transformers_version", "4.31.0"},
                    {"use_cache", true},
                    {"vocab_size", s.vocab}};
  write_text_file(dir / "config.json", cfg.dump(2));
  write_text_file(dir / "generation_config.json",
                  Json{{"bos_token_id", 1}, {"eos_token_id", 2}, {"transformers_version", "4.31.0"}}.dump(2));
  fs::remove(dir / "tokenizer.model");
  fs::copy_file(tokenizer_model, dir / "tokenizer.model");
  fs::permissions(dir / "tokenizer.model", fs::perms::owner_write, fs::perm_options::add);  // the fixture is read-only
  auto token = [](const char* content) {
    return Json{{"__type", "AddedToken"}, {"content", content}, {"lstrip", false},
                {"normalized", true},     {"rstrip", false},    {"single_word", false}};
  };
  const Json tok = {{"add_bos_token", true},
                    {"add_eos_token", false},
                    {"bos_token", token("<s>")},
                    {"eos_token", token("</s>")},
                    {"unk_token", token("<unk>")},
                    {"pad_token", token("<unk>")},
                    {"clean_up_tokenization_spaces", false},
                    {"legacy", true},
                    {"model_max_length", s.max_positions},
                    {"sp_model_kwargs", Json::object()},
                    {"tokenizer_class", "LlamaTokenizer"}};
  write_text_file(dir / "tokenizer_config.json", tok.dump(2));
  write_text_file(
      dir / "special_tokens_map.json",
      Json{{"bos_token", "<s>"}, {"eos_token", "</s>"}, {"unk_token", "<unk>"}, {"pad_token", "<unk>"}}.dump(2));
}

}  // namespace ortformers::bench
