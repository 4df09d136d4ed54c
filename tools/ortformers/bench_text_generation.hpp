#pragma once
// `ortformers bench text-generation`: decoding speed of a causal LM folder (see bench_text_generation.cpp).
#include "cli_util.hpp"

namespace ortformers::cli {

struct TextGenerationBenchArgs {
  int prompt_tokens = 128;            // --prompt-tokens
  int new_tokens = 128;               // --new-tokens
  int rounds = 3;                     // --rounds (medians)
  int long_position = 1000;           // --long-position: ms/token there vs at position 10 (0 = skip)
  int batch = 8;                      // --decode-batch: rows of the batched decode (0 = skip)
  int bandwidth_mib = 256;            // --bandwidth-mib: MiB copied by the bandwidth measure
  std::string share_buffer = "auto";  // --past-present-share-buffer: auto | true | false (CausalLMOptions)
};

int bench_text_generation(const ModelArgs& model, const TextGenerationBenchArgs& args);

}  // namespace ortformers::cli
