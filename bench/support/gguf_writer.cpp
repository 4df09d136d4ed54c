#include "support/gguf_writer.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "tokenizers/sentencepiece_model.hpp"

namespace ortformers::bench {

namespace {

// gguf_metadata_value_type
constexpr std::uint32_t kU32 = 4, kF32 = 6, kBool = 7, kString = 8, kArray = 9, kI32 = 5;
constexpr std::uint64_t kAlignment = 32;

template <class T>
void put(std::string& out, T v) {
  char b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));
  out.append(b, sizeof(T));
}

void put_string(std::string& out, const std::string& s) {
  put<std::uint64_t>(out, s.size());
  out += s;
}

void pad_to(std::string& out, std::uint64_t alignment) {
  while (out.size() % alignment != 0) out.push_back('\0');
}

}  // namespace

void GgufWriter::key(const std::string& k, std::uint32_t type) {
  put_string(kv_, k);
  put<std::uint32_t>(kv_, type);
  ++kv_count_;
}
void GgufWriter::add_u32(const std::string& k, std::uint32_t v) {
  key(k, kU32);
  put(kv_, v);
}
void GgufWriter::add_f32(const std::string& k, float v) {
  key(k, kF32);
  put(kv_, v);
}
void GgufWriter::add_bool(const std::string& k, bool v) {
  key(k, kBool);
  put<std::uint8_t>(kv_, v ? 1 : 0);
}
void GgufWriter::add_string(const std::string& k, const std::string& v) {
  key(k, kString);
  put_string(kv_, v);
}
void GgufWriter::add_strings(const std::string& k, const std::vector<std::string>& v) {
  key(k, kArray);
  put<std::uint32_t>(kv_, kString);
  put<std::uint64_t>(kv_, v.size());
  for (const auto& s : v) put_string(kv_, s);
}
void GgufWriter::add_f32s(const std::string& k, const std::vector<float>& v) {
  key(k, kArray);
  put<std::uint32_t>(kv_, kF32);
  put<std::uint64_t>(kv_, v.size());
  for (float x : v) put(kv_, x);
}
void GgufWriter::add_i32s(const std::string& k, const std::vector<std::int32_t>& v) {
  key(k, kArray);
  put<std::uint32_t>(kv_, kI32);
  put<std::uint64_t>(kv_, v.size());
  for (auto x : v) put(kv_, x);
}

void quantize_row_q8_0(const float* x, std::size_t n, std::string& out) {
  for (std::size_t b = 0; b < n; b += 32) {
    float amax = 0;
    for (std::size_t j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(x[b + j]));
    const float d = amax / 127.0f, id = d != 0 ? 1.0f / d : 0.0f;
    put<std::uint16_t>(out, float_to_half(d));
    for (std::size_t j = 0; j < 32; ++j) put<std::int8_t>(out, static_cast<std::int8_t>(std::lround(x[b + j] * id)));
  }
}

void quantize_row_q4_0(const float* x, std::size_t n, std::string& out) {
  for (std::size_t b = 0; b < n; b += 32) {
    float amax = 0, max = 0;
    for (std::size_t j = 0; j < 32; ++j)
      if (std::fabs(x[b + j]) > amax) {
        amax = std::fabs(x[b + j]);
        max = x[b + j];
      }
    const float d = max / -8.0f, id = d != 0 ? 1.0f / d : 0.0f;
    put<std::uint16_t>(out, float_to_half(d));
    auto q = [&](float v) {
      return static_cast<std::uint8_t>(std::min(15, static_cast<int>(static_cast<std::int8_t>(v * id + 8.5f))));
    };
    for (std::size_t j = 0; j < 16; ++j)
      put<std::uint8_t>(out, static_cast<std::uint8_t>(q(x[b + j]) | (q(x[b + 16 + j]) << 4)));
  }
}

void GgufWriter::add_tensor(const std::string& name, const std::vector<std::uint64_t>& ne, GgmlType type,
                            const float* data) {
  pad_to(data_, kAlignment);
  tensors_.push_back({name, ne, type, data_.size()});
  std::uint64_t numel = 1;
  for (auto d : ne) numel *= d;
  if (type == GgmlType::F32) {
    data_.append(reinterpret_cast<const char*>(data), numel * sizeof(float));
    return;
  }
  if (ne[0] % 32 != 0) throw std::runtime_error("gguf: " + name + ": rows must be a multiple of 32 to quantize");
  for (std::uint64_t r = 0; r < numel / ne[0]; ++r) {
    if (type == GgmlType::Q8_0)
      quantize_row_q8_0(data + r * ne[0], ne[0], data_);
    else
      quantize_row_q4_0(data + r * ne[0], ne[0], data_);
  }
}

void GgufWriter::write(const std::filesystem::path& file) const {
  std::string head;
  head += "GGUF";
  put<std::uint32_t>(head, 3);
  put<std::uint64_t>(head, tensors_.size());
  put<std::uint64_t>(head, kv_count_);
  head += kv_;
  for (const auto& t : tensors_) {
    put_string(head, t.name);
    put<std::uint32_t>(head, static_cast<std::uint32_t>(t.ne.size()));
    for (auto d : t.ne) put<std::uint64_t>(head, d);
    put<std::uint32_t>(head, static_cast<std::uint32_t>(t.type));
    put<std::uint64_t>(head, t.offset);
  }
  pad_to(head, kAlignment);
  std::ofstream f(file, std::ios::binary | std::ios::trunc);
  f.write(head.data(), static_cast<std::streamsize>(head.size()));
  f.write(data_.data(), static_cast<std::streamsize>(data_.size()));
  if (!f) throw std::runtime_error("gguf: cannot write " + file.string());
}

void write_llama_gguf(const std::filesystem::path& file, const LlamaBenchWeights& w,
                      const std::filesystem::path& tokenizer_model, GgmlType type) {
  const auto& s = w.shape;
  GgufWriter g;
  g.add_string("general.architecture", "llama");
  g.add_string("general.name", "ortformers-bench-llama");
  // llama_ftype: ALL_F32 0, MOSTLY_Q4_0 2, MOSTLY_Q8_0 7
  g.add_u32("general.file_type", type == GgmlType::F32 ? 0 : type == GgmlType::Q4_0 ? 2 : 7);
  g.add_u32("general.quantization_version", 2);
  g.add_u32("general.alignment", static_cast<std::uint32_t>(kAlignment));
  g.add_u32("llama.context_length", static_cast<std::uint32_t>(s.max_positions));
  g.add_u32("llama.embedding_length", static_cast<std::uint32_t>(s.hidden));
  g.add_u32("llama.block_count", static_cast<std::uint32_t>(s.layers));
  g.add_u32("llama.feed_forward_length", static_cast<std::uint32_t>(s.intermediate));
  g.add_u32("llama.attention.head_count", static_cast<std::uint32_t>(s.heads));
  g.add_u32("llama.attention.head_count_kv", static_cast<std::uint32_t>(s.kv_heads));
  g.add_f32("llama.attention.layer_norm_rms_epsilon", static_cast<float>(s.rms_norm_eps));
  g.add_u32("llama.rope.dimension_count", static_cast<std::uint32_t>(s.head_dim()));
  g.add_f32("llama.rope.freq_base", static_cast<float>(s.rope_theta));
  g.add_u32("llama.vocab_size", static_cast<std::uint32_t>(s.vocab));

  std::ifstream in(tokenizer_model, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  if (!in) throw std::runtime_error("gguf: cannot read " + tokenizer_model.string());
  const auto spm = tokenizers::parse_spm(bytes.str(), tokenizer_model.string());
  if (static_cast<std::int64_t>(spm.pieces.size()) != s.vocab)
    throw std::runtime_error("gguf: " + tokenizer_model.string() + " has " + std::to_string(spm.pieces.size()) +
                             " pieces, the model's vocab is " + std::to_string(s.vocab));
  std::vector<std::string> tokens;
  std::vector<float> scores;
  std::vector<std::int32_t> types;  // llama_token_type mirrors SentencePiece's piece types (1 normal ... 6 byte)
  for (const auto& p : spm.pieces) {
    tokens.push_back(p.piece);
    scores.push_back(p.score);
    types.push_back(p.type);
  }
  g.add_string("tokenizer.ggml.model", "llama");
  g.add_strings("tokenizer.ggml.tokens", tokens);
  g.add_f32s("tokenizer.ggml.scores", scores);
  g.add_i32s("tokenizer.ggml.token_type", types);
  g.add_u32("tokenizer.ggml.bos_token_id", 1);
  g.add_u32("tokenizer.ggml.eos_token_id", 2);
  g.add_u32("tokenizer.ggml.unknown_token_id", 0);
  g.add_bool("tokenizer.ggml.add_bos_token", true);
  g.add_bool("tokenizer.ggml.add_eos_token", false);

  auto matrix = [&](const std::string& gguf_name, const std::string& hf_name, GgmlType t) {
    const Tensor& x = w.at(hf_name);
    g.add_tensor(gguf_name, {static_cast<std::uint64_t>(x.dim(1)), static_cast<std::uint64_t>(x.dim(0))}, t,
                 x.data<float>());
  };
  auto vector = [&](const std::string& gguf_name, const std::string& hf_name) {
    const Tensor& x = w.at(hf_name);
    g.add_tensor(gguf_name, {static_cast<std::uint64_t>(x.dim(0))}, GgmlType::F32, x.data<float>());
  };
  // rotate_half -> interleaved pairs: GGUF row h*D + 2i + s = transformers row h*D + s*D/2 + i.
  auto rope_permuted = [&](const std::string& gguf_name, const std::string& hf_name, std::int64_t heads) {
    const Tensor& x = w.at(hf_name);
    const std::int64_t D = s.head_dim(), cols = x.dim(1);
    std::vector<float> p(static_cast<std::size_t>(x.numel()));
    const float* src = x.data<float>();
    for (std::int64_t h = 0; h < heads; ++h)
      for (std::int64_t i = 0; i < D / 2; ++i)
        for (std::int64_t half = 0; half < 2; ++half)
          std::memcpy(&p[static_cast<std::size_t>((h * D + 2 * i + half) * cols)],
                      src + (h * D + half * (D / 2) + i) * cols, static_cast<std::size_t>(cols) * sizeof(float));
    g.add_tensor(gguf_name, {static_cast<std::uint64_t>(cols), static_cast<std::uint64_t>(x.dim(0))}, type, p.data());
  };
  matrix("token_embd.weight", "model.embed_tokens.weight", type);
  for (std::int64_t l = 0; l < s.layers; ++l) {
    const std::string b = "blk." + std::to_string(l) + ".", p = "model.layers." + std::to_string(l) + ".";
    vector(b + "attn_norm.weight", p + "input_layernorm.weight");
    rope_permuted(b + "attn_q.weight", p + "self_attn.q_proj.weight", s.heads);
    rope_permuted(b + "attn_k.weight", p + "self_attn.k_proj.weight", s.kv_heads);
    matrix(b + "attn_v.weight", p + "self_attn.v_proj.weight", type);
    matrix(b + "attn_output.weight", p + "self_attn.o_proj.weight", type);
    vector(b + "ffn_norm.weight", p + "post_attention_layernorm.weight");
    matrix(b + "ffn_gate.weight", p + "mlp.gate_proj.weight", type);
    matrix(b + "ffn_up.weight", p + "mlp.up_proj.weight", type);
    matrix(b + "ffn_down.weight", p + "mlp.down_proj.weight", type);
  }
  vector("output_norm.weight", "model.norm.weight");
  matrix("output.weight", "lm_head.weight", type);
  g.write(file);
}

}  // namespace ortformers::bench
