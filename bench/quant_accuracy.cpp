// What the quantized exports cost in accuracy against the float32 export (issue 21; not a test). Two modes:
//
//   bench_quant_accuracy perplexity STSB_CSV THREADS BATCH LIMIT REF=DIR NAME=DIR...
//     Every sentence of STSB_CSV (both columns, file order; the first LIMIT when LIMIT > 0), tokenized with REF's
//     tokenizer (BOS first, as the model's tokenizer adds it), run teacher-forced through every folder in batches of
//     BATCH sentences (sorted by length, right-padded: with a causal mask the padding cannot reach a real position;
//     the dynamic int8 scale still sees it, so the batches are the same for every variant). For each variant, over
//     every position that predicts a next token: perplexity and its ratio to REF's, the KL divergence of its
//     next-token distribution from REF's (mean, median, p99, max), top-1 agreement with REF's argmax, max |logit
//     diff| over every real position, the RMS of the change in the next token's probability — the measures
//     llama.cpp's perplexity tool (--kl-divergence) reports for its quantizations — and REF's own mean entropy against
//     the uniform distribution's (log vocab). One JSON line per variant, then a Markdown table.
//     With QUANT_ACCURACY_DUMP=FILE set, also writes FILE: one JSON line per sentence (file order) with its ids and,
//     per variant, the argmax and the log-probability of the data's next token at every position that predicts one
//     (what bench/llama_cpp/kl.mjs reads to feed llama.cpp the same ids and cross-check its F32 against REF).
//
//   bench_quant_accuracy fixtures FIXTURES WORK THREADS
//     The generative fixtures (models/gpt2-tiny, t5-tiny, bart-tiny: plain, as --optimize is refused for them;
//     llama-tiny: plain and --optimize) exported natively into WORK (reused when there) as float32 and with
//     --quantize int8 / int8_block / int4 / int4_asym. Against the float32 plain export, for every generate case of the
//     reference (reference/<name>.json) that decodes greedily (num_beams 1, no sampling) on each of its inputs:
//     the share of identical generate() sequences and the mean length of the matching prefix of new tokens; along
//     the float greedy sequences of the `greedy` cases (teacher-forced): max |logit diff| and argmax agreement.
//     One JSON line per (model, variant), then a Markdown table.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <numeric>
#include <string>
#include <vector>

#include "ortformers/core/error.hpp"
#include "ortformers/core/json.hpp"
#include "ortformers/export/export.hpp"
#include "ortformers/generation/generate.hpp"
#include "ortformers/models/causal_lm.hpp"
#include "ortformers/models/seq2seq_lm.hpp"
#include "ortformers/tokenizers/pretrained_tokenizer.hpp"

using namespace ortformers;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

double quantile(std::vector<double> v, double q) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  const double pos = q * static_cast<double>(v.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(pos));
  const auto hi = std::min(v.size() - 1, lo + 1);
  return v[lo] + (v[hi] - v[lo]) * (pos - static_cast<double>(lo));
}

// RFC 4180 fields of one CSV line (quoted fields keep commas; "" is a quote; STS-B has no newlines in fields).
std::vector<std::string> csv_fields(const std::string& line) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        out.back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        out.back() += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      out.emplace_back();
    } else if (c != '\r') {
      out.back() += c;
    }
  }
  return out;
}

std::int64_t argmax(const float* v, std::int64_t n) {
  return static_cast<std::int64_t>(std::max_element(v, v + n) - v);
}

double log_sum_exp(const float* v, std::int64_t n) {
  const double m = *std::max_element(v, v + n);
  double s = 0;
  for (std::int64_t i = 0; i < n; ++i) s += std::exp(static_cast<double>(v[i]) - m);
  return m + std::log(s);
}

std::pair<std::string, fs::path> name_and_dir(const std::string& arg) {
  const auto eq = arg.find('=');
  if (eq == std::string::npos || eq == 0) throw InvalidArgument("expected NAME=DIR, got '" + arg + "'");
  return {arg.substr(0, eq), fs::path(arg.substr(eq + 1))};
}

// ---- perplexity ----------------------------------------------------------------------------------------------------

struct Variant {
  std::string name;
  fs::path dir;
  std::unique_ptr<models::ORTModelForCausalLM> model;
  double nll = 0, seconds = 0, max_logit_diff = 0, entropy = 0;
  double delta_p_sq = 0;  // sum of (p(next token) - reference's p(next token))^2: llama.cpp's "RMS Δp"
  std::int64_t positions = 0, top1_agree = 0, top1_data = 0;
  std::vector<double> kl;
  std::vector<std::vector<std::int64_t>> top;  // per sentence (file order), per position: for QUANT_ACCURACY_DUMP
  std::vector<std::vector<double>> logp;       // log p(data's next token), same indexing
};

int perplexity(const fs::path& csv, int threads, std::int64_t batch, std::int64_t limit,
               const std::vector<std::string>& args) {
  std::vector<Variant> variants;
  models::CausalLMOptions o;
  o.base.session.intra_op_num_threads = threads;
  for (const auto& a : args) {
    auto [name, dir] = name_and_dir(a);
    Variant v;
    v.name = name;
    v.dir = dir;
    v.model =
        std::make_unique<models::ORTModelForCausalLM>(models::ORTModelForCausalLM::from_pretrained(dir.string(), o));
    variants.push_back(std::move(v));
  }
  const auto tokenizer = tokenizers::AutoTokenizer::from_pretrained(variants[0].dir);
  const Json config = Json::parse(std::ifstream(variants[0].dir / "config.json"));
  const std::int64_t bos = config.value("bos_token_id", std::int64_t{-1});

  std::vector<std::string> sentences;
  {
    std::ifstream in(csv);
    if (!in) throw NotFoundError("cannot read " + csv.string());
    for (std::string line; std::getline(in, line);) {
      const auto f = csv_fields(line);
      for (std::size_t i = 0; i < 2 && i < f.size(); ++i)
        if (!f[i].empty()) sentences.push_back(f[i]);
    }
  }
  if (limit > 0 && static_cast<std::size_t>(limit) < sentences.size())
    sentences.resize(static_cast<std::size_t>(limit));
  std::vector<std::vector<std::int64_t>> ids;
  std::int64_t bos_added = 0, tokens = 0;
  for (const auto& s : sentences) {
    auto e = tokenizer.encode(s).ids;
    if (bos >= 0 && (e.empty() || e.front() != bos)) {
      e.insert(e.begin(), bos);
      ++bos_added;
    }
    tokens += static_cast<std::int64_t>(e.size());
    ids.push_back(std::move(e));
  }
  std::vector<std::size_t> order(ids.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](auto a, auto b) { return ids[a].size() < ids[b].size(); });
  std::cerr << "[quant_accuracy] " << sentences.size() << " sentences, " << tokens << " tokens (BOS added by us to "
            << bos_added << "), batch " << batch << ", " << variants.size() << " variants\n";

  for (auto& v : variants) {
    v.top.resize(ids.size());
    v.logp.resize(ids.size());
  }
  const std::int64_t vocab = variants[0].model->vocab_size();
  double ref_lo = INFINITY, ref_hi = -INFINITY;
  std::vector<std::vector<float>> logits(variants.size());
  std::vector<double> p_ref(static_cast<std::size_t>(vocab));
  const auto t_all = Clock::now();
  for (std::size_t start = 0; start < order.size(); start += static_cast<std::size_t>(batch)) {
    const std::size_t end = std::min(order.size(), start + static_cast<std::size_t>(batch));
    const auto rows = static_cast<std::int64_t>(end - start);
    std::int64_t len = 0;
    for (std::size_t i = start; i < end; ++i) len = std::max(len, static_cast<std::int64_t>(ids[order[i]].size()));
    std::vector<std::int64_t> flat(static_cast<std::size_t>(rows * len), 0), mask(flat.size(), 0);
    for (std::int64_t r = 0; r < rows; ++r) {
      const auto& s = ids[order[start + static_cast<std::size_t>(r)]];
      for (std::size_t t = 0; t < s.size(); ++t) {
        flat[static_cast<std::size_t>(r * len) + t] = s[t];
        mask[static_cast<std::size_t>(r * len) + t] = 1;
      }
    }
    const Tensor input = Tensor::from_vector(flat, {rows, len}), attention = Tensor::from_vector(mask, {rows, len});
    for (std::size_t v = 0; v < variants.size(); ++v) {
      const auto t0 = Clock::now();
      const Tensor out = variants[v].model->forward(input, attention).logits;
      variants[v].seconds += seconds_since(t0);
      logits[v] = out.to_float_vector();
      if (out.dim(2) != vocab) throw InvalidArgument(variants[v].name + ": vocabulary differs from the reference");
    }
    for (std::int64_t r = 0; r < rows; ++r) {
      const auto& s = ids[order[start + static_cast<std::size_t>(r)]];
      const auto n = static_cast<std::int64_t>(s.size());
      for (std::int64_t t = 0; t < n; ++t) {
        const auto off = static_cast<std::size_t>((r * len + t) * vocab);
        const float* ref = logits[0].data() + off;
        const auto [lo, hi] = std::minmax_element(ref, ref + vocab);
        ref_lo = std::min(ref_lo, static_cast<double>(*lo));
        ref_hi = std::max(ref_hi, static_cast<double>(*hi));
        for (std::size_t v = 1; v < variants.size(); ++v) {
          const float* q = logits[v].data() + off;
          double d = 0;
          for (std::int64_t i = 0; i < vocab; ++i) d = std::max(d, std::fabs(static_cast<double>(q[i]) - ref[i]));
          variants[v].max_logit_diff = std::max(variants[v].max_logit_diff, d);
        }
        if (t + 1 >= n) continue;  // the last token predicts nothing in the data
        const std::int64_t target = s[static_cast<std::size_t>(t + 1)];
        const double lse_ref = log_sum_exp(ref, vocab);
        const std::int64_t ref_top = argmax(ref, vocab);
        // KL(ref || q) = sum p (log p - log q) = sum p (ref - q) + lse_q - lse_ref (sum p = 1)
        for (std::int64_t i = 0; i < vocab; ++i) p_ref[static_cast<std::size_t>(i)] = std::exp(ref[i] - lse_ref);
        for (std::size_t v = 0; v < variants.size(); ++v) {
          auto& var = variants[v];
          const float* q = logits[v].data() + off;
          const double lse = v == 0 ? lse_ref : log_sum_exp(q, vocab);
          var.nll += lse - q[target];
          ++var.positions;
          const double dp = std::exp(q[target] - lse) - p_ref[static_cast<std::size_t>(target)];
          var.delta_p_sq += dp * dp;
          const std::int64_t top = v == 0 ? ref_top : argmax(q, vocab);
          var.top1_agree += top == ref_top ? 1 : 0;
          var.top1_data += top == target ? 1 : 0;
          var.top[order[start + static_cast<std::size_t>(r)]].push_back(top);
          var.logp[order[start + static_cast<std::size_t>(r)]].push_back(static_cast<double>(q[target]) - lse);
          double cross = 0;  // sum p (ref - q)
          for (std::int64_t i = 0; i < vocab; ++i)
            cross += p_ref[static_cast<std::size_t>(i)] * (static_cast<double>(ref[i]) - q[i]);
          var.kl.push_back(std::max(0.0, cross + lse - lse_ref));  // rounding can leave -1e-12 for equal inputs
          if (v == 0) {
            double entropy = 0;
            for (std::int64_t i = 0; i < vocab; ++i)
              entropy -= p_ref[static_cast<std::size_t>(i)] * (static_cast<double>(ref[i]) - lse_ref);
            var.entropy += entropy;
          }
        }
      }
    }
    if ((start / static_cast<std::size_t>(batch)) % 20 == 0)
      std::cerr << "[quant_accuracy] " << end << "/" << order.size() << " sentences, " << seconds_since(t_all)
                << " s\n";
  }

  const double ref_ppl = std::exp(variants[0].nll / static_cast<double>(variants[0].positions));
  if (const char* dump = std::getenv("QUANT_ACCURACY_DUMP"); dump && *dump) {
    std::ofstream out(dump);
    if (!out) throw NotFoundError(std::string("cannot write QUANT_ACCURACY_DUMP=") + dump);
    for (std::size_t s = 0; s < ids.size(); ++s) {
      Json j{{"ids", ids[s]}, {"argmax", Json::object()}, {"logp", Json::object()}};
      for (const auto& v : variants) {
        j["argmax"][v.name] = v.top[s];
        j["logp"][v.name] = v.logp[s];
      }
      out << j.dump() << "\n";
    }
    std::cerr << "[quant_accuracy] wrote " << dump << "\n";
  }
  std::vector<Json> lines;
  for (const auto& v : variants) {
    const double n = static_cast<double>(v.positions);
    const double ppl = std::exp(v.nll / n);
    double mean_kl = 0;
    for (double k : v.kl) mean_kl += k;
    mean_kl /= n;
    Json j{{"variant", v.name},
           {"dir", v.dir.string()},
           {"sentences", sentences.size()},
           {"positions", v.positions},
           {"perplexity", ppl},
           {"perplexity_ratio", ppl / ref_ppl},
           {"kl_mean", mean_kl},
           {"kl_median", quantile(v.kl, 0.5)},
           {"kl_p99", quantile(v.kl, 0.99)},
           {"kl_p999", quantile(v.kl, 0.999)},
           {"kl_max", quantile(v.kl, 1.0)},
           {"top1_agreement", static_cast<double>(v.top1_agree) / n},
           {"top1_accuracy_on_data", static_cast<double>(v.top1_data) / n},
           {"rms_delta_p", std::sqrt(v.delta_p_sq / n)},
           {"max_abs_logit_diff", v.max_logit_diff},
           {"reference_logit_range", ref_hi - ref_lo},
           {"reference_mean_entropy", variants[0].entropy / n},
           {"uniform_entropy", std::log(static_cast<double>(vocab))},
           {"forward_seconds", v.seconds},
           {"tokens_per_s", static_cast<double>(tokens) / v.seconds}};
    std::cout << j.dump() << std::endl;
    lines.push_back(j);
  }
  std::printf(
      "\n| variant | perplexity | PPL / PPL(%s) | mean KL | p99 KL | top-1 = %s | RMS dp | max abs logit diff | "
      "tok/s |\n|---|---|---|---|---|---|---|---|---|\n",
      variants[0].name.c_str(), variants[0].name.c_str());
  for (const auto& j : lines)
    std::printf("| %s | %.4g | %.4f | %.5f | %.4f | %.2f %% | %.3f %% | %.3f | %.0f |\n",
                j["variant"].get<std::string>().c_str(), j["perplexity"].get<double>(),
                j["perplexity_ratio"].get<double>(), j["kl_mean"].get<double>(), j["kl_p99"].get<double>(),
                100 * j["top1_agreement"].get<double>(), 100 * j["rms_delta_p"].get<double>(),
                j["max_abs_logit_diff"].get<double>(), j["tokens_per_s"].get<double>());
  std::printf(
      "\n%s: mean entropy %.3f nats of %.3f for the uniform distribution; top-1 = the next token of the data "
      "%.2f %%; logit range %.2f\n",
      variants[0].name.c_str(), variants[0].entropy / static_cast<double>(variants[0].positions),
      std::log(static_cast<double>(vocab)),
      100.0 * static_cast<double>(variants[0].top1_data) / static_cast<double>(variants[0].positions), ref_hi - ref_lo);
  return 0;
}

// ---- fixtures ------------------------------------------------------------------------------------------------------

Tensor int_tensor(const Json& rows) {
  std::vector<std::int64_t> flat;
  for (const auto& r : rows)
    for (const auto& v : r) flat.push_back(v.get<std::int64_t>());
  const auto b = static_cast<std::int64_t>(rows.size());
  return Tensor::from_vector(std::move(flat), {b, b ? static_cast<std::int64_t>(rows[0].size()) : 0});
}

std::vector<std::vector<std::int64_t>> rows_of(const Tensor& t) {
  const auto v = t.to_vector<std::int64_t>();
  std::vector<std::vector<std::int64_t>> rows;
  for (std::int64_t r = 0; r < t.dim(0); ++r)
    rows.emplace_back(v.begin() + r * t.dim(1), v.begin() + (r + 1) * t.dim(1));
  return rows;
}

fs::path export_once(const fs::path& model, const fs::path& out, const std::string& task, bool optimize,
                     const std::string& quantize) {
  if (fs::exists(out / "config.json")) return out;
  exporters::ExportOptions o;
  o.task = task;
  o.optimize = optimize;
  if (!quantize.empty()) o.quantize = quantize;
  const fs::path tmp = out.string() + ".tmp";
  fs::remove_all(tmp);
  exporters::export_model(model, tmp, o);
  fs::rename(tmp, out);
  return out;
}

struct Agreement {
  std::int64_t sequences = 0, identical = 0, prefix_tokens = 0, float_new_tokens = 0;
  std::int64_t steps = 0, agreeing_steps = 0;
  double max_logit_diff = 0, logit_range = 0;
};

// Free-running greedy sequences of both models for every greedy generate case of `ref`, then the `greedy` cases'
// float sequences teacher-forced through both (logits and argmax per step).
Agreement compare(const models::GenerativeModel& fm, const models::GenerativeModel& qm, const Json& ref,
                  const generation::GenerationConfig& defaults, bool seq2seq,
                  const std::function<Tensor(const models::GenerativeModel&, const Tensor&, const Tensor&,
                                             const Tensor&)>& logits_of) {
  Agreement a;
  double lo = INFINITY, hi = -INFINITY;
  for (const auto& g : ref.at("generate")) {
    generation::GenerationConfig config = defaults;
    config.update(g.at("kwargs"));
    if (config.num_beams != 1 || config.do_sample) continue;
    const Json& in = ref.at("generate_inputs").at(g.at("input").get<std::string>());
    const Tensor ids = int_tensor(in.at("input_ids")), mask = int_tensor(in.at("attention_mask"));
    const TensorMap inputs{{"input_ids", ids}, {"attention_mask", mask}};
    const auto fseq = rows_of(generation::generate(fm, inputs, config).sequences);
    const auto qseq = rows_of(generation::generate(qm, inputs, config).sequences);
    const std::size_t start = seq2seq ? 1 : static_cast<std::size_t>(ids.dim(1));
    const auto& eos = config.eos_token_id;
    // A row's new tokens: up to its first EOS (included), the padding after it is not compared.
    auto new_tokens = [&](const std::vector<std::int64_t>& row) {
      std::vector<std::int64_t> out;
      for (std::size_t t = start; t < row.size(); ++t) {
        out.push_back(row[t]);
        if (std::find(eos.begin(), eos.end(), row[t]) != eos.end()) break;
      }
      return out;
    };
    for (std::size_t r = 0; r < fseq.size(); ++r) {
      const auto f = new_tokens(fseq[r]), q = new_tokens(qseq[r]);
      ++a.sequences;
      a.identical += f == q ? 1 : 0;
      std::size_t prefix = 0;
      while (prefix < f.size() && prefix < q.size() && f[prefix] == q[prefix]) ++prefix;
      a.float_new_tokens += static_cast<std::int64_t>(f.size());
      a.prefix_tokens += static_cast<std::int64_t>(prefix);
    }
    if (g.at("id") != "greedy") continue;
    // Teacher-forced along the float sequences (every row, its real positions).
    const auto rows = static_cast<std::int64_t>(fseq.size());
    const auto total = static_cast<std::int64_t>(fseq[0].size());
    std::vector<std::int64_t> flat;
    for (const auto& row : fseq) flat.insert(flat.end(), row.begin(), row.end());
    const Tensor seqs = Tensor::from_vector(flat, {rows, total});
    const auto fl = logits_of(fm, ids, mask, seqs).to_float_vector();
    const auto ql = logits_of(qm, ids, mask, seqs).to_float_vector();
    const auto vocab = static_cast<std::int64_t>(fl.size()) / (rows * total);
    const auto m = mask.to_vector<std::int64_t>();
    for (std::int64_t r = 0; r < rows; ++r)
      for (std::int64_t t = 0; t < total; ++t) {
        if (!seq2seq && t < ids.dim(1) && m[static_cast<std::size_t>(r * ids.dim(1) + t)] == 0) continue;
        const auto off = static_cast<std::size_t>((r * total + t) * vocab);
        for (std::int64_t v = 0; v < vocab; ++v) {
          a.max_logit_diff = std::max(a.max_logit_diff, std::fabs(static_cast<double>(fl[off + v]) - ql[off + v]));
          lo = std::min(lo, static_cast<double>(fl[off + v]));
          hi = std::max(hi, static_cast<double>(fl[off + v]));
        }
        // the steps that chose a generated token: decoder-only from the last prompt position
        const std::int64_t first = seq2seq ? 0 : ids.dim(1) - 1;
        if (t < first || t + 1 >= total) continue;
        const auto f = argmax(fl.data() + off, vocab);
        if (f != fseq[static_cast<std::size_t>(r)][static_cast<std::size_t>(t + 1)]) continue;  // processors / pad
        ++a.steps;
        a.agreeing_steps += argmax(ql.data() + off, vocab) == f ? 1 : 0;
      }
  }
  a.logit_range = hi - lo;
  return a;
}

int fixtures_mode(const fs::path& fixtures, const fs::path& work, int threads) {
  fs::create_directories(work);
  struct Family {
    std::string name, task;
    bool seq2seq, optimize;  // --optimize: llama only (refused for gpt2 and the encoder-decoders)
  };
  const std::vector<Family> families{{"gpt2-tiny", "text-generation-with-past", false, false},
                                     {"llama-tiny", "text-generation-with-past", false, true},
                                     {"t5-tiny", "text2text-generation-with-past", true, false},
                                     {"bart-tiny", "text2text-generation-with-past", true, false}};
  std::vector<Json> lines;
  for (const auto& fam : families) {
    const fs::path src = fixtures / "models" / fam.name;
    const Json ref = Json::parse(std::ifstream(fixtures / "reference" / (fam.name + ".json")));
    const auto defaults = generation::GenerationConfig::from_pretrained(src);
    models::CausalLMOptions co;
    co.base.session.intra_op_num_threads = threads;
    models::Seq2SeqLMOptions so;
    so.base.session.intra_op_num_threads = threads;
    auto load = [&](const fs::path& dir) -> std::unique_ptr<models::GenerativeModel> {
      if (fam.seq2seq)
        return std::make_unique<models::ORTModelForSeq2SeqLM>(
            models::ORTModelForSeq2SeqLM::from_pretrained(dir.string(), so));
      return std::make_unique<models::ORTModelForCausalLM>(
          models::ORTModelForCausalLM::from_pretrained(dir.string(), co));
    };
    auto logits_of = [&](const models::GenerativeModel& m, const Tensor& ids, const Tensor& mask, const Tensor& seqs) {
      if (fam.seq2seq) return dynamic_cast<const models::ORTModelForSeq2SeqLM&>(m).forward(ids, mask, seqs).logits;
      // decoder-only: the prompt's mask, then ones for the generated part
      const auto m0 = mask.to_vector<std::int64_t>();
      std::vector<std::int64_t> full;
      for (std::int64_t r = 0; r < seqs.dim(0); ++r) {
        full.insert(full.end(), m0.begin() + r * mask.dim(1), m0.begin() + (r + 1) * mask.dim(1));
        full.insert(full.end(), seqs.dim(1) - mask.dim(1), 1);
      }
      return dynamic_cast<const models::ORTModelForCausalLM&>(m)
          .forward(seqs, Tensor::from_vector(full, seqs.shape()))
          .logits;
    };
    const fs::path float_dir = export_once(src, work / (fam.name + "-f32"), fam.task, false, "");
    const auto fm = load(float_dir);
    for (const bool optimize : fam.optimize ? std::vector<bool>{false, true} : std::vector<bool>{false}) {
      for (const std::string scheme : {"", "int8", "int8_block", "int4", "int4_asym"}) {
        if (scheme.empty() && !optimize) continue;  // the reference itself
        const std::string tag = (scheme.empty() ? std::string("f32") : scheme) + (optimize ? "-optimize" : "");
        const auto t0 = Clock::now();
        const fs::path dir = export_once(src, work / (fam.name + "-" + tag), fam.task, optimize, scheme);
        const auto qm = load(dir);
        const auto a = compare(*fm, *qm, ref, defaults, fam.seq2seq, logits_of);
        Json j{
            {"model", fam.name},
            {"variant", tag},
            {"sequences", a.sequences},
            {"identical_sequences", a.identical},
            {"identical_share", static_cast<double>(a.identical) / static_cast<double>(a.sequences)},
            {"mean_matching_prefix", static_cast<double>(a.prefix_tokens) / static_cast<double>(a.sequences)},
            {"mean_float_new_tokens", static_cast<double>(a.float_new_tokens) / static_cast<double>(a.sequences)},
            {"teacher_forced_steps", a.steps},
            {"teacher_forced_argmax_agreement", static_cast<double>(a.agreeing_steps) / static_cast<double>(a.steps)},
            {"max_abs_logit_diff", a.max_logit_diff},
            {"float_logit_range", a.logit_range},
            {"seconds", seconds_since(t0)}};
        std::cout << j.dump() << std::endl;
        lines.push_back(j);
      }
    }
  }
  std::printf(
      "\n| model | variant | identical greedy sequences | mean matching prefix / new tokens | teacher-forced "
      "argmax agreement | max abs logit diff (float range) |\n|---|---|---|---|---|---|\n");
  for (const auto& j : lines)
    std::printf("| %s | %s | %lld/%lld | %.2f / %.2f | %.3f | %.3g (%.1f) |\n", j["model"].get<std::string>().c_str(),
                j["variant"].get<std::string>().c_str(), j["identical_sequences"].get<long long>(),
                j["sequences"].get<long long>(), j["mean_matching_prefix"].get<double>(),
                j["mean_float_new_tokens"].get<double>(), j["teacher_forced_argmax_agreement"].get<double>(),
                j["max_abs_logit_diff"].get<double>(), j["float_logit_range"].get<double>());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::string mode = argc > 1 ? argv[1] : "";
    if (mode == "perplexity" && argc >= 8) {
      std::vector<std::string> variants(argv + 6, argv + argc);
      return perplexity(argv[2], std::stoi(argv[3]), std::stoll(argv[4]), std::stoll(argv[5]), variants);
    }
    if (mode == "fixtures" && argc == 5) return fixtures_mode(argv[2], argv[3], std::stoi(argv[4]));
    std::cerr << "usage: bench_quant_accuracy perplexity STSB_CSV THREADS BATCH LIMIT REF=DIR NAME=DIR...\n"
                 "       bench_quant_accuracy fixtures FIXTURES WORK THREADS\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "bench_quant_accuracy: " << e.what() << "\n";
    return 1;
  }
}
