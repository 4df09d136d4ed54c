#include "support/minilm_checkpoint.hpp"

#include <random>

#include "ortformers/core/json.hpp"
#include "ortformers/core/tensor.hpp"
#include "ortformers/export/safetensors_writer.hpp"

namespace ortformers::bench {

namespace fs = std::filesystem;

fs::path write_minilm_checkpoint(const fs::path& dir, const fs::path& vocab_txt) {
  fs::create_directories(dir / "1_Pooling");
  const std::int64_t L = 6, H = 384, I = 1536, V = 30522, P = 512, T = 2;
  std::mt19937 rng(1234);
  std::normal_distribution<float> normal(0.0f, 0.05f);
  std::vector<std::pair<std::string, Tensor>> ts;
  auto rand = [&](const std::string& n, Shape s) {
    std::vector<float> v(static_cast<std::size_t>(shape_numel(s)));
    for (auto& x : v) x = normal(rng);
    ts.emplace_back(n, Tensor::from_vector(std::move(v), std::move(s)));
  };
  auto fill = [&](const std::string& n, Shape s, float value) {
    std::vector<float> v(static_cast<std::size_t>(shape_numel(s)), value);
    ts.emplace_back(n, Tensor::from_vector(std::move(v), std::move(s)));
  };
  rand("embeddings.word_embeddings.weight", {V, H});
  rand("embeddings.position_embeddings.weight", {P, H});
  rand("embeddings.token_type_embeddings.weight", {T, H});
  fill("embeddings.LayerNorm.weight", {H}, 1.0f);
  fill("embeddings.LayerNorm.bias", {H}, 0.0f);
  for (std::int64_t l = 0; l < L; ++l) {
    const std::string p = "encoder.layer." + std::to_string(l) + ".";
    for (const char* q :
         {"attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense"}) {
      rand(p + q + ".weight", {H, H});
      rand(p + q + ".bias", {H});
    }
    fill(p + "attention.output.LayerNorm.weight", {H}, 1.0f);
    fill(p + "attention.output.LayerNorm.bias", {H}, 0.0f);
    rand(p + "intermediate.dense.weight", {I, H});
    rand(p + "intermediate.dense.bias", {I});
    rand(p + "output.dense.weight", {H, I});
    rand(p + "output.dense.bias", {H});
    fill(p + "output.LayerNorm.weight", {H}, 1.0f);
    fill(p + "output.LayerNorm.bias", {H}, 0.0f);
  }
  rand("pooler.dense.weight", {H, H});
  rand("pooler.dense.bias", {H});
  exporters::save_safetensors(dir / "model.safetensors", ts, {{"format", "pt"}});
  Json cfg = {{"architectures", {"BertModel"}},
              {"model_type", "bert"},
              {"hidden_size", H},
              {"num_hidden_layers", L},
              {"num_attention_heads", 12},
              {"intermediate_size", I},
              {"vocab_size", V},
              {"max_position_embeddings", P},
              {"type_vocab_size", T},
              {"hidden_act", "gelu"},
              {"layer_norm_eps", 1e-12},
              {"pad_token_id", 0}};
  write_text_file(dir / "config.json", cfg.dump(2));
  if (!vocab_txt.empty()) {
    fs::copy_file(vocab_txt, dir / "vocab.txt", fs::copy_options::overwrite_existing);
  } else {
    std::string vocab = "[PAD]\n";
    for (int i = 1; i < 100; ++i) vocab += "[unused" + std::to_string(i) + "]\n";
    vocab += "[UNK]\n[CLS]\n[SEP]\n[MASK]\n";
    for (std::int64_t i = 104; i < V; ++i) vocab += "tok" + std::to_string(i) + "\n";
    write_text_file(dir / "vocab.txt", vocab);
  }
  write_text_file(dir / "tokenizer_config.json",
                  R"({"do_lower_case":true,"model_max_length":512,"tokenizer_class":"BertTokenizer"})");
  write_text_file(dir / "modules.json",
                  R"([{"idx":0,"name":"0","path":"","type":"sentence_transformers.models.Transformer"},)"
                  R"({"idx":1,"name":"1","path":"1_Pooling","type":"sentence_transformers.models.Pooling"},)"
                  R"({"idx":2,"name":"2","path":"2_Normalize","type":"sentence_transformers.models.Normalize"}])");
  write_text_file(dir / "1_Pooling" / "config.json",
                  R"({"word_embedding_dimension":384,"pooling_mode_cls_token":false,"pooling_mode_mean_tokens":true,)"
                  R"("pooling_mode_max_tokens":false,"pooling_mode_mean_sqrt_len_tokens":false})");
  return dir;
}

}  // namespace ortformers::bench
