#pragma once
// Internal helpers shared by the pipelines: reading the Python-shaped JSON inputs and loading the tokenizer.
#include <string>
#include <vector>

#include "ortformers/core/json.hpp"
#include "ortformers/models/ort_model.hpp"
#include "ortformers/pipelines/pipeline.hpp"
#include "ortformers/tokenizers/pretrained_tokenizer.hpp"

namespace ortformers::pipelines {

// A string input, or an object holding it under one of `keys` (e.g. {"text": ...}). InvalidArgument otherwise.
std::string text_input(const Json& input, const std::string& task, const std::vector<std::string>& keys);
// The tokenizer of options.tokenizer, else of the model folder (AutoTokenizer::from_pretrained).
tokenizers::PreTrainedTokenizer load_tokenizer_for(const models::ORTModel& model, const PipelineOptions& options);

}  // namespace ortformers::pipelines

namespace ortformers::pipelines {
// Keeps only the tensors the graph takes (tokenizers return token_type_ids that some graphs do not have, as
// optimum's forward() ignores them).
TensorMap select_graph_inputs(TensorMap inputs, const models::ORTModel& model);
// Python's str.strip(): removes leading/trailing Unicode whitespace.
std::string python_strip(const std::string& s);
}  // namespace ortformers::pipelines
