#pragma once
// Umbrella header: everything a user needs for the Hugging Face-style API.
#include "ortformers/config/pretrained_config.hpp"
#include "ortformers/core/error.hpp"
#include "ortformers/core/json.hpp"
#include "ortformers/core/tensor.hpp"
#include "ortformers/models/ort_model.hpp"
#include "ortformers/pipelines/feature_extraction.hpp"
#include "ortformers/pipelines/pipeline.hpp"
#include "ortformers/pipelines/pooling.hpp"
#include "ortformers/pipelines/sentence_embeddings.hpp"
#include "ortformers/runtime/session.hpp"
#include "ortformers/tokenizers/pretrained_tokenizer.hpp"
