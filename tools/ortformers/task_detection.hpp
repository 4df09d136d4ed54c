#pragma once
// The ORTModelFor<Class> that runs a folder's graph (`ortformers forward` without --class), from the pipeline task
// pipelines::detect_task infers (what `ortformers info` shows).
#include <string>
#include <vector>

#include "ortformers/runtime/session.hpp"

namespace ortformers::cli {

// The ORTModelFor<Class> suffix ("QuestionAnswering", ...) for `task`, when the graph has the outputs that class
// reads; "CustomTasks" (every output by name, as optimum's ORTModelForCustomTasks) when no class fits.
std::string model_class_for(const std::string& task, const runtime::Session& session);
// The graph outputs the forward() of ORTModelFor<cls> reads (empty for CustomTasks and unknown names).
const std::vector<std::string>& outputs_read_by(const std::string& cls);

}  // namespace ortformers::cli
