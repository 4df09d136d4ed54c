#include "ortformers/pipelines/text2text_generation.hpp"

namespace ortformers::pipelines {

SummarizationPipeline::SummarizationPipeline(const std::string& model_id_or_path, const PipelineOptions& options)
    : Text2TextGenerationPipeline(model_id_or_path, options, "summarization", "summary") {}

void SummarizationPipeline::check_inputs(std::int64_t input_length, std::int64_t min_length,
                                         std::int64_t max_length) const {
  if (max_length < min_length) {
    warnings_.push_back("Your min_length=" + std::to_string(min_length) +
                        " must be inferior than your max_length=" + std::to_string(max_length) + ".");
  }
  if (input_length < max_length) {
    warnings_.push_back("Your max_length is set to " + std::to_string(max_length) + ", but your input_length is only " +
                        std::to_string(input_length) +
                        ". Since this is a summarization task, where outputs shorter than the input are typically "
                        "wanted, you might consider decreasing max_length manually, e.g. summarizer('...', "
                        "max_length=" +
                        std::to_string(input_length / 2) + ")");
  }
}

ORTFORMERS_REGISTER_PIPELINE("summarization", make_pipeline<SummarizationPipeline>);

}  // namespace ortformers::pipelines
