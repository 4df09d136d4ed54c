// The three Python snippets of the README, in C++:
//   tokenizer = AutoTokenizer.from_pretrained(path)
//   model = ORTModelForFeatureExtraction.from_pretrained(path)
//   pipe = pipeline("feature-extraction", model=model, tokenizer=tokenizer); features = pipe("This is an example sentence.")
//   outputs = model(**tokenizer("Example text", return_tensors="pt", padding=True, truncation=True))
#include <iostream>

#include "ortformers/ortformers.hpp"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: quickstart MODEL_DIR\n";
    return 2;
  }
  using namespace ortformers;
  try {
    auto tokenizer = tokenizers::AutoTokenizer::from_pretrained(argv[1]);
    auto model = models::ORTModelForFeatureExtraction::from_pretrained(argv[1]);
    pipelines::FeatureExtractionPipeline pipe(model, tokenizer);
    Tensor features = pipe("This is an example sentence.");  // [1, seq_len, hidden]
    std::cout << "features " << shape_to_string(features.shape()) << "\n";

    tokenizers::TokenizeOptions opts;
    opts.padding = tokenizers::Padding::Longest;
    opts.truncation = true;
    auto outputs = model.forward(tokenizer({"Example text"}, opts).to_tensors());
    std::cout << "last_hidden_state " << shape_to_string(outputs.last_hidden_state.shape()) << "\n";
  } catch (const Error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
