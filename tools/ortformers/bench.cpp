// ortformers bench <task> --model DIR --batch B --seq S: throughput of the whole pipeline and of the raw session run
// on the same inputs, in the same process, interleaved so that machine noise hits both alike; prints their ratio.
// ortformers bench text-generation --model DIR: decoding speed of a causal LM (bench_text_generation.cpp).
#include <algorithm>
#include <chrono>
#include <iostream>

#include "bench_text_generation.hpp"
#include "cli_util.hpp"
#include "commands.hpp"
#include "ortformers/core/error.hpp"
#include "ortformers/pipelines/feature_extraction.hpp"
#include "ortformers/pipelines/sentence_embeddings.hpp"

namespace {

using namespace ortformers;
using Clock = std::chrono::steady_clock;

struct BenchArgs {
  std::string task;
  cli::ModelArgs m;
  int batch = 1, seq = 16, iterations = 0;
  double seconds = 3.0;
  cli::TextGenerationBenchArgs generation;
};

// A text that tokenizes to at least `seq` tokens; truncation to seq then gives exactly seq tokens.
std::string make_text(const tokenizers::PreTrainedTokenizer& tok, int seq, int variant) {
  static const char* words[] = {"the",     "model",   "runs", "fast",    "on",      "a",     "small",
                                "machine", "with",    "two",  "cores",   "and",     "every", "sentence",
                                "is",      "encoded", "into", "vectors", "quickly", "today"};
  std::string text;
  int i = variant;
  while (true) {
    for (int k = 0; k < 16; ++k) text += std::string(text.empty() ? "" : " ") + words[(i++) % 20];
    tokenizers::TokenizeOptions o;
    if (tok({text}, o).encodings.front().ids.size() >= static_cast<std::size_t>(seq)) return text;
    if (text.size() > 1000000) throw RuntimeError("bench: cannot build a text of " + std::to_string(seq) + " tokens");
  }
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

template <class F>
double time_ms(F&& f) {
  const auto t0 = Clock::now();
  f();
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

int bench_command(const BenchArgs& a) {
  if (a.task == "text-generation") return cli::bench_text_generation(a.m, a.generation);
  if (a.batch <= 0 || a.seq <= 0) throw InvalidArgument("bench: --batch and --seq must be positive");
  pipelines::PipelineOptions po;
  po.model = a.m.model_options();
  std::function<void()> run_pipeline, run_raw;
  std::vector<std::string> texts;
  TensorMap raw_inputs;
  const runtime::Session* session = nullptr;
  std::unique_ptr<pipelines::FeatureExtractionPipeline> fe;
  std::unique_ptr<pipelines::SentenceEmbeddingsPipeline> st;
  tokenizers::TokenizeOptions tok_opts;
  tok_opts.truncation = true;
  tok_opts.max_length = static_cast<std::size_t>(a.seq);
  tok_opts.padding = tokenizers::Padding::Longest;
  if (a.task == "feature-extraction") {
    fe = pipelines::FeatureExtractionPipeline::from_pretrained(a.m.model, po);
    for (int i = 0; i < a.batch; ++i) texts.push_back(make_text(fe->tokenizer(), a.seq, i));
    pipelines::FeatureExtractionOptions fo;
    fo.truncation = true;
    fo.tokenize.max_length = static_cast<std::size_t>(a.seq);
    raw_inputs = fe->tokenizer()(texts, tok_opts).to_tensors();
    session = &fe->model().session();
    run_pipeline = [&, fo] { auto out = (*fe)(texts, fo); };
  } else if (a.task == "sentence-embeddings") {
    st = pipelines::SentenceEmbeddingsPipeline::from_pretrained(a.m.model, po);
    auto tok = tokenizers::AutoTokenizer::from_pretrained(st->model().model_dir());
    for (int i = 0; i < a.batch; ++i) texts.push_back(make_text(tok, a.seq, i));
    // The pipeline truncates at max_seq_length: cut the texts to seq tokens first so both paths see seq tokens.
    for (auto& t : texts) {
      auto enc = tok({t}, tok_opts).encodings.front();
      std::size_t end_char = 0;
      for (std::size_t k = 0; k < enc.offsets.size(); ++k)
        if (!enc.special_tokens_mask[k]) end_char = std::max(end_char, enc.offsets[k].second);
      // offsets are code points; the bench texts are ASCII, so code points == bytes.
      t = t.substr(0, end_char);
    }
    raw_inputs = tok(texts, tok_opts).to_tensors();
    session = &st->model().session();
    pipelines::EncodeOptions eo;
    eo.batch_size = static_cast<std::size_t>(a.batch);
    run_pipeline = [&, eo] { auto out = st->encode(texts, eo); };
  } else {
    throw UnsupportedError("bench: task '" + a.task +
                           "' is not benchmarked by the CLI yet (feature-extraction, "
                           "sentence-embeddings, text-generation); see bench/ for the other pipelines");
  }
  // Raw session: exactly the graph's inputs, already in the graph's dtypes, no validation.
  TensorMap prepared;
  for (const auto& info : session->inputs()) {
    auto it = raw_inputs.find(info.name);
    if (it == raw_inputs.end()) {
      if (info.name == "token_type_ids")
        prepared.emplace(info.name, Tensor::zeros(info.dtype, raw_inputs.at("input_ids").shape()));
      else
        throw RuntimeError("bench: the tokenizer gives no '" + info.name + "' input");
    } else {
      prepared.emplace(info.name, it->second.to(info.dtype));
    }
  }
  run_raw = [&] { auto out = session->run_unchecked(prepared); };

  for (int w = 0; w < 3; ++w) {
    run_pipeline();
    run_raw();
  }
  std::vector<double> tp, tr;
  const auto deadline = Clock::now() + std::chrono::duration<double>(a.seconds);
  for (int it = 0; a.iterations > 0 ? it < a.iterations : (Clock::now() < deadline || it < 5); ++it) {
    tp.push_back(time_ms(run_pipeline));
    tr.push_back(time_ms(run_raw));
  }
  const double p = median(tp), r = median(tr);
  Json out = {{"task", a.task},
              {"model", a.m.model},
              {"batch", a.batch},
              {"seq", a.seq},
              {"threads", a.m.threads},
              {"iterations", tp.size()},
              {"pipeline_ms", p},
              {"raw_session_ms", r},
              {"pipeline_over_raw", r > 0 ? p / r : 0},
              {"pipeline_items_per_s", p > 0 ? 1000.0 * a.batch / p : 0},
              {"raw_items_per_s", r > 0 ? 1000.0 * a.batch / r : 0}};
  cli::print_json_line(out);
  std::cerr << a.task << " batch " << a.batch << " x " << a.seq << " tokens: pipeline " << p << " ms, raw session " << r
            << " ms, ratio " << (r > 0 ? p / r : 0) << " (" << tp.size() << " iterations each, medians)\n";
  return 0;
}

void register_bench(CLI::App& app) {
  auto a = std::make_shared<BenchArgs>();
  auto* cmd = app.add_subcommand("bench", "Pipeline vs raw ONNX Runtime session throughput, in one run");
  cmd->add_option("task,--task", a->task, "feature-extraction, sentence-embeddings or text-generation")->required();
  cli::add_model_options(*cmd, a->m, cli::kModel | cli::kThreads | cli::kFileName);
  cmd->add_option("--batch", a->batch, "inputs per batch (feature-extraction, sentence-embeddings)");
  cmd->add_option("--seq", a->seq,
                  "tokens per input, special tokens included (feature-extraction, "
                  "sentence-embeddings)");
  auto& g = a->generation;
  cmd->add_option("--prompt-tokens", g.prompt_tokens, "text-generation: prompt length (default 128)");
  cmd->add_option("--new-tokens", g.new_tokens, "text-generation: new tokens per generate() (default 128)");
  cmd->add_option("--rounds", g.rounds, "text-generation: timed rounds, medians (default 3)");
  cmd->add_option("--long-position", g.long_position,
                  "text-generation: ms/token at this position vs at position 10 (default 1000, 0 = skip)");
  cmd->add_option("--decode-batch", g.batch, "text-generation: rows of the batched decode (default 8, 0 = skip)");
  cmd->add_option("--bandwidth-mib", g.bandwidth_mib, "text-generation: MiB copied by the bandwidth measure (256)");
  cmd->add_option("--past-present-share-buffer", g.share_buffer,
                  "text-generation: bind one max-length KV buffer as past and present: auto (when the graph says "
                  "it can), true or false (default auto)")
      ->check(CLI::IsMember({"auto", "true", "false"}));
  cmd->add_option("--iterations", a->iterations, "timed iterations (0 = as many as fit in --seconds)");
  cmd->add_option("--seconds", a->seconds, "time budget when --iterations is 0");
  ortformers::cli::command_actions()["bench"] = [a] { return bench_command(*a); };
}

}  // namespace

ORTFORMERS_REGISTER_COMMAND(register_bench);
