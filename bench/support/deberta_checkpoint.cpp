#include "support/deberta_checkpoint.hpp"

#include <random>

#include "ortformers/core/json.hpp"
#include "ortformers/core/tensor.hpp"
#include "ortformers/export/safetensors_writer.hpp"

namespace ortformers::bench {

namespace fs = std::filesystem;

fs::path write_deberta_v3_small_checkpoint(const fs::path& dir) {
  fs::create_directories(dir);
  const std::int64_t L = 6, H = 768, I = 3072, V = 128100, buckets = 256;
  std::mt19937 rng(4321);
  std::normal_distribution<float> normal(0.0f, 0.02f);
  std::vector<std::pair<std::string, Tensor>> ts;
  auto add = [&](const std::string& n, Shape s, std::optional<float> value) {
    std::vector<float> v(static_cast<std::size_t>(shape_numel(s)));
    for (auto& x : v) x = value ? *value : normal(rng);
    ts.emplace_back(n, Tensor::from_vector(std::move(v), std::move(s)));
  };
  auto layer_norm = [&](const std::string& p) {
    add(p + ".weight", {H}, 1.0f);
    add(p + ".bias", {H}, 0.0f);
  };
  add("embeddings.word_embeddings.weight", {V, H}, std::nullopt);
  layer_norm("embeddings.LayerNorm");
  add("encoder.rel_embeddings.weight", {2 * buckets, H}, std::nullopt);
  layer_norm("encoder.LayerNorm");
  for (std::int64_t l = 0; l < L; ++l) {
    const std::string p = "encoder.layer." + std::to_string(l) + ".";
    for (const char* q : {"attention.self.query_proj", "attention.self.key_proj", "attention.self.value_proj",
                          "attention.output.dense"}) {
      add(p + q + ".weight", {H, H}, std::nullopt);
      add(p + q + ".bias", {H}, std::nullopt);
    }
    layer_norm(p + "attention.output.LayerNorm");
    add(p + "intermediate.dense.weight", {I, H}, std::nullopt);
    add(p + "intermediate.dense.bias", {I}, std::nullopt);
    add(p + "output.dense.weight", {H, I}, std::nullopt);
    add(p + "output.dense.bias", {H}, std::nullopt);
    layer_norm(p + "output.LayerNorm");
  }
  exporters::save_safetensors(dir / "model.safetensors", ts, {{"format", "pt"}});
  const Json cfg = {{"architectures", {"DebertaV2Model"}},
                    {"model_type", "deberta-v2"},
                    {"hidden_size", H},
                    {"num_hidden_layers", L},
                    {"num_attention_heads", 12},
                    {"intermediate_size", I},
                    {"vocab_size", V},
                    {"max_position_embeddings", 512},
                    {"max_relative_positions", -1},
                    {"position_buckets", buckets},
                    {"relative_attention", true},
                    {"pos_att_type", {"p2c", "c2p"}},
                    {"share_att_key", true},
                    {"norm_rel_ebd", "layer_norm"},
                    {"position_biased_input", false},
                    {"type_vocab_size", 0},
                    {"hidden_act", "gelu"},
                    {"layer_norm_eps", 1e-7},
                    {"pad_token_id", 0}};
  write_text_file(dir / "config.json", cfg.dump(2));
  return dir;
}

}  // namespace ortformers::bench
