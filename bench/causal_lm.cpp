// Greedy token ids of a causal LM folder, for bench/llama_cpp_bench.sh's cross-check against llama.cpp (not a test):
//   bench_causal_lm greedy DIR PROMPTS_JSON NEW THREADS   PROMPTS_JSON: [[ids...], ...] (BOS included)
// Each prompt alone (batch 1), generate() with do_sample false and no EOS stop, NEW new tokens. Prints one JSON line
// {"tokens": [[new ids...], ...]}.
#include <iostream>
#include <string>

#include "ortformers/core/json.hpp"
#include "ortformers/generation/generate.hpp"
#include "ortformers/models/causal_lm.hpp"

using namespace ortformers;

int main(int argc, char** argv) {
  if (argc != 6 || std::string(argv[1]) != "greedy") {
    std::cerr << "usage: bench_causal_lm greedy DIR PROMPTS_JSON NEW THREADS\n";
    return 2;
  }
  const std::string dir = argv[2];
  const auto prompts = Json::parse(argv[3]).get<std::vector<std::vector<std::int64_t>>>();
  const int n = std::stoi(argv[4]);
  models::CausalLMOptions o;
  o.base.session.intra_op_num_threads = std::stoi(argv[5]);
  const auto model = models::ORTModelForCausalLM::from_pretrained(dir, o);
  auto config = generation::GenerationConfig::from_pretrained(dir);
  config.update(Json{{"max_new_tokens", n}, {"min_new_tokens", n}, {"num_beams", 1}, {"do_sample", false}});
  Json out = Json::array();
  for (const auto& p : prompts) {
    const Shape shape{1, static_cast<std::int64_t>(p.size())};
    const auto ids = Tensor::from_vector(p, shape);
    const auto mask = Tensor::from_vector(std::vector<std::int64_t>(p.size(), 1), shape);
    const auto seq =
        generation::generate(model, TensorMap{{"input_ids", ids}, {"attention_mask", mask}}, config).sequences;
    const auto* s = seq.data<std::int64_t>();
    out.push_back(std::vector<std::int64_t>(s + p.size(), s + seq.dim(1)));
  }
  std::cout << Json{{"engine", "ortformers"}, {"mode", "greedy"}, {"tokens", out}}.dump() << std::endl;
  return 0;
}
