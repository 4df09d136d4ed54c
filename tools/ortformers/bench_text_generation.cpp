// `ortformers bench text-generation --model DIR`: batch-1 decoding speed of a causal LM (issue 21), one JSON line.
//  - prompt tokens/s: the first DecoderStep over a --prompt-tokens prompt (deterministic pseudo-random ids);
//  - decode tokens/s: generate() greedy, --new-tokens new tokens (no EOS stop), the steps after the prompt's;
//  - raw session ms/token: the same graph run directly (ONNX Runtime IO binding, inputs and outputs bound once) at
//    the decode's middle position, and generate()'s per-token time over it (the loop + DecoderStep overhead), with
//    the DecoderStep calls' own share (decoder_step_ms_per_token);
//  - ms/token at position 10 and at --long-position (the decoder's step times, medians of 16 steps around each);
//  - batch --decode-batch decode tokens/s; peak RSS (getrusage);
//  - a memory copy bandwidth of this machine (memcpy of --bandwidth-mib (256) MiB buffers, --threads threads, counted
//  read + write as
//    STREAM's copy) and the roofline: bandwidth / the bytes of the weights one token reads (every initializer except
//    those only gathered from: embeddings and rotary tables).
#include "bench_text_generation.hpp"

#include <onnx/onnx_pb.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iostream>
#include <numeric>
#include <set>
#include <thread>
#include <unordered_map>

#include "ortformers/core/error.hpp"
#include "ortformers/generation/generate.hpp"
#include "ortformers/models/causal_lm.hpp"

namespace ortformers::cli {

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// A GenerativeModel that forwards to `inner` and records the duration of every DecoderStep::step.
class TimedModel final : public models::GenerativeModel {
 public:
  explicit TimedModel(const models::GenerativeModel& inner) : inner_(inner) {}
  mutable std::vector<double> step_ms;

  std::unique_ptr<models::DecoderStep> start(const TensorMap& encoder_inputs) const override {
    step_ms.clear();
    return std::make_unique<Step>(inner_.start(encoder_inputs), step_ms);
  }
  bool is_encoder_decoder() const override { return inner_.is_encoder_decoder(); }
  std::int64_t vocab_size() const override { return inner_.vocab_size(); }
  std::int64_t max_positions() const override { return inner_.max_positions(); }

 private:
  class Step final : public models::DecoderStep {
   public:
    Step(std::unique_ptr<models::DecoderStep> s, std::vector<double>& ms) : s_(std::move(s)), ms_(ms) {}
    Tensor step(const Tensor& input_ids, const Tensor& attention_mask) override {
      const auto t0 = Clock::now();
      Tensor out = s_->step(input_ids, attention_mask);
      ms_.push_back(ms_since(t0));
      return out;
    }
    void select_rows(std::span<const std::int64_t> rows) override { s_->select_rows(rows); }
    void reserve(std::int64_t max_length) override { s_->reserve(max_length); }
    std::int64_t rows() const override { return s_->rows(); }
    std::int64_t past_length() const override { return s_->past_length(); }

   private:
    std::unique_ptr<models::DecoderStep> s_;
    std::vector<double>& ms_;
  };
  const models::GenerativeModel& inner_;
};

// Deterministic pseudo-random prompt ids in [3, vocab) (past <unk>, <s>, </s> of Llama-like vocabularies).
Tensor prompt_ids(std::int64_t rows, std::int64_t len, std::int64_t vocab, std::uint64_t seed) {
  std::vector<std::int64_t> v(static_cast<std::size_t>(rows * len));
  std::uint64_t x = seed * 6364136223846793005ULL + 1442695040888963407ULL;
  for (auto& id : v) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    id = 3 + static_cast<std::int64_t>((x >> 33) % static_cast<std::uint64_t>(std::max<std::int64_t>(vocab - 3, 1)));
  }
  return Tensor::from_vector(std::move(v), {rows, len});
}

Tensor ones(std::int64_t rows, std::int64_t len) {
  return Tensor::from_vector(std::vector<std::int64_t>(static_cast<std::size_t>(rows * len), 1), {rows, len});
}

// memcpy bandwidth (bytes read + written per second) with `threads` threads over `mib` MiB buffers, best of 5.
double copy_bandwidth(int threads, int mib) {
  const std::size_t n = static_cast<std::size_t>(mib) << 20;
  std::vector<char> a(n, 1), b(n, 2);
  double best = 0;
  for (int r = 0; r < 5; ++r) {
    const auto t0 = Clock::now();
    std::vector<std::thread> pool;
    const std::size_t chunk = n / static_cast<std::size_t>(threads);
    for (int t = 0; t < threads; ++t)
      pool.emplace_back([&, t] { std::memcpy(b.data() + t * chunk, a.data() + t * chunk, chunk); });
    for (auto& th : pool) th.join();
    best = std::max(best, 2.0 * static_cast<double>(n) / (ms_since(t0) / 1000.0));
  }
  return best;
}

// Bytes of the initializers a decode step reads in full: all but those only used as a Gather's data (input 0).
std::int64_t weight_bytes_per_token(const std::filesystem::path& onnx_file) {
  onnx::ModelProto m;
  std::ifstream f(onnx_file, std::ios::binary);
  if (!f || !m.ParseFromIstream(&f)) throw FileFormatError(onnx_file.string() + ": cannot parse the ONNX model");
  std::unordered_map<std::string, int> gathered, other;
  std::function<void(const onnx::GraphProto&)> count = [&](const onnx::GraphProto& g) {
    for (const auto& n : g.node()) {
      for (int i = 0; i < n.input_size(); ++i) ++(n.op_type() == "Gather" && i == 0 ? gathered : other)[n.input(i)];
      for (const auto& a : n.attribute())
        if (a.has_g()) count(a.g());
    }
  };
  count(m.graph());
  std::int64_t bytes = 0;
  for (const auto& t : m.graph().initializer()) {
    if (gathered.count(t.name()) && !other.count(t.name())) continue;
    std::int64_t len = static_cast<std::int64_t>(t.raw_data().size());
    for (const auto& e : t.external_data())
      if (e.key() == "length") len = std::stoll(e.value());
    if (len == 0) {
      std::int64_t numel = 1;
      for (auto d : t.dims()) numel *= d;
      len = numel * (t.data_type() == onnx::TensorProto_DataType_FLOAT ? 4 : 1);
    }
    bytes += len;
  }
  return bytes;
}

// ms per run of the raw session at past length `past`, batch 1: every input and output bound once (IO binding);
// with the shared past/present buffer, one [1, kv_heads, past + 1, head_dim] tensor per cache entry bound as both.
double raw_session_ms(models::ORTModelForCausalLM& model, std::int64_t past, int runs) {
  auto& s = model.session();
  const std::int64_t L = model.num_layers(), KV = model.num_key_value_heads(), D = model.head_dim();
  std::vector<Tensor> keep;
  std::vector<Ort::Value> values;
  values.reserve(s.inputs().size() + s.outputs().size());
  Ort::IoBinding binding(s.raw());
  const bool shared = model.past_present_share_buffer();
  std::unordered_map<std::string, Tensor> shared_buffers;  // "<i>.key" / "<i>.value" -> the buffer
  auto cache_entry = [&](const std::string& name, std::string_view prefix) { return name.substr(prefix.size()); };
  for (const auto& in : s.inputs()) {
    Tensor t;
    if (in.name == "input_ids")
      t = Tensor::from_vector(std::vector<std::int64_t>{5}, {1, 1});
    else if (in.name == "attention_mask")
      t = ones(1, past + 1);
    else if (in.name == "position_ids")
      t = Tensor::from_vector(std::vector<std::int64_t>{past}, {1, 1});
    else if (in.name == "use_cache_branch")
      t = Tensor::from_vector(std::vector<std::uint8_t>{1}, {1}).to(DType::Bool);
    else if (in.name.rfind("past_key_values.", 0) == 0 && shared)
      t = shared_buffers[cache_entry(in.name, "past_key_values.")] = Tensor::zeros(in.dtype, {1, KV, past + 1, D});
    else if (in.name.rfind("past_key_values.", 0) == 0)
      t = Tensor::zeros(in.dtype, {1, KV, past, D});
    else
      throw UnsupportedError("bench: the raw session run does not know the input '" + in.name + "'");
    keep.push_back(t);
    values.push_back(keep.back().to_ort());
    binding.BindInput(in.name.c_str(), values.back());
  }
  for (const auto& out : s.outputs()) {
    Tensor t = out.name == "logits" ? Tensor::zeros(out.dtype, {1, 1, model.vocab_size()})
               : shared             ? shared_buffers.at(cache_entry(out.name, "present."))
                                    : Tensor::zeros(out.dtype, {1, KV, past + 1, D});
    keep.push_back(t);
    values.push_back(keep.back().to_ort());
    binding.BindOutput(out.name.c_str(), values.back());
  }
  (void)L;
  std::vector<double> ms;
  for (int r = 0; r < runs + 2; ++r) {
    const auto t0 = Clock::now();
    s.raw().Run(Ort::RunOptions{nullptr}, binding);
    if (r >= 2) ms.push_back(ms_since(t0));
  }
  return median(ms);
}

}  // namespace

int bench_text_generation(const ModelArgs& m, const TextGenerationBenchArgs& a) {
  if (a.prompt_tokens < 2 || a.new_tokens < 2 || a.rounds < 1 || a.batch < 0 || a.long_position < 0)
    throw InvalidArgument(
        "bench text-generation: --prompt-tokens and --new-tokens must be >= 2, --rounds >= 1, "
        "--decode-batch and --long-position >= 0");
  models::CausalLMOptions o;
  o.base = m.model_options();
  if (a.share_buffer != "auto") o.past_present_share_buffer = a.share_buffer == "true";
  auto model = models::ORTModelForCausalLM::from_pretrained(m.model, o);
  if (!model.use_cache()) throw UnsupportedError("bench text-generation: " + m.model + " has no KV-cache graph");
  const std::int64_t V = model.vocab_size();
  const TimedModel timed(model);
  auto config = generation::GenerationConfig::from_pretrained(model.model_dir().string());
  auto greedy = [&](int new_tokens) {
    auto c = config;
    c.update(
        Json{{"max_new_tokens", new_tokens}, {"min_new_tokens", new_tokens}, {"num_beams", 1}, {"do_sample", false}});
    return c;
  };
  const auto c_new = greedy(a.new_tokens);

  // Prompt processing and batch-1 decode (round 0 warms up); the raw session runs interleaved with the rounds, so
  // that the machine's load hits both alike.
  const Tensor prompt = prompt_ids(1, a.prompt_tokens, V, 1);
  const std::int64_t mid = a.prompt_tokens + a.new_tokens / 2;
  std::vector<double> pp, decode, per_token, raw, step_token;
  for (int r = 0; r <= a.rounds; ++r) {
    auto step = model.start();
    const auto t0 = Clock::now();
    step->step(prompt, ones(1, a.prompt_tokens));
    const double pp_ms = ms_since(t0);
    const auto t1 = Clock::now();
    generation::generate(timed, prompt, ones(1, a.prompt_tokens), c_new);
    const double gen_ms = ms_since(t1);
    const double decode_ms = gen_ms - timed.step_ms.front();  // everything after the prompt's step
    double steps_ms = 0;  // the DecoderStep calls of the decode (generate()'s own work is the rest)
    for (std::size_t k = 1; k < timed.step_ms.size(); ++k) steps_ms += timed.step_ms[k];
    const double raw_ms = raw_session_ms(model, mid, 8);
    if (r == 0) continue;
    step_token.push_back(steps_ms / static_cast<double>(timed.step_ms.size() - 1));
    pp.push_back(1000.0 * a.prompt_tokens / pp_ms);
    decode.push_back(1000.0 * (a.new_tokens - 1) / decode_ms);
    per_token.push_back(decode_ms / (a.new_tokens - 1));
    raw.push_back(raw_ms);
  }
  const double raw_ms = median(raw);
  const double gen_token_ms = median(per_token);

  Json out = {{"task", "text-generation"},
              {"model", m.model},
              {"file", model.model_path().filename().string()},
              {"threads", m.threads},
              {"past_present_share_buffer", model.past_present_share_buffer()},
              {"prompt_tokens", a.prompt_tokens},
              {"new_tokens", a.new_tokens},
              {"rounds", a.rounds},
              {"prompt_tokens_per_s", median(pp)},
              {"decode_tokens_per_s", median(decode)},
              {"generate_ms_per_token", gen_token_ms},
              {"raw_session_ms_per_token", raw_ms},
              {"decoder_step_ms_per_token", median(step_token)},
              {"raw_session_position", mid},
              {"generate_overhead_over_raw", raw_ms > 0 ? gen_token_ms / raw_ms - 1.0 : 0.0}};

  if (a.long_position > 0) {
    const int n = a.long_position + 10;
    generation::generate(timed, prompt_ids(1, 2, V, 2), ones(1, 2), greedy(n));
    // step_ms[k] (k >= 1) feeds the token at position k + 1.
    auto around = [&](int p) {
      std::vector<double> w;
      for (int k = std::max(1, p - 9); k <= p + 6 && k < static_cast<int>(timed.step_ms.size()); ++k)
        w.push_back(timed.step_ms[static_cast<std::size_t>(k)]);
      return median(w);
    };
    out["ms_per_token_at_10"] = around(10);
    out["ms_per_token_at_long"] = around(a.long_position);
    out["long_position"] = a.long_position;
    out["long_over_10"] = around(10) > 0 ? around(a.long_position) / around(10) : 0.0;
  }
  if (a.batch > 0) {
    const Tensor batch_prompt = prompt_ids(a.batch, a.prompt_tokens, V, 3);
    std::vector<double> rates;
    for (int r = 0; r <= std::max(1, a.rounds / 2); ++r) {
      const auto t0 = Clock::now();
      generation::generate(timed, batch_prompt, ones(a.batch, a.prompt_tokens), c_new);
      const double decode_ms = ms_since(t0) - timed.step_ms.front();
      if (r > 0) rates.push_back(1000.0 * a.batch * (a.new_tokens - 1) / decode_ms);
    }
    out["decode_batch"] = a.batch;
    out["batch_decode_tokens_per_s"] = median(rates);
  }
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  out["peak_rss_mb"] = static_cast<double>(ru.ru_maxrss) / 1024.0;
  const double bw = copy_bandwidth(std::max(1, m.threads), a.bandwidth_mib);
  const std::int64_t wb = weight_bytes_per_token(model.model_path());
  out["copy_bandwidth_gb_per_s"] = bw / 1e9;
  out["weight_bytes_per_token"] = wb;
  out["roofline_tokens_per_s"] = bw / static_cast<double>(wb);
  out["decode_over_roofline"] = median(decode) / (bw / static_cast<double>(wb));
  print_json_line(out);
  return 0;
}

}  // namespace ortformers::cli
