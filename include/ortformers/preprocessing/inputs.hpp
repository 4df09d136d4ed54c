#pragma once
// Python-shaped pipeline inputs for images and audio: what transformers' pipelines accept, read from JSON.
#include <filesystem>
#include <string>
#include <vector>

#include "ortformers/core/json.hpp"
#include "ortformers/preprocessing/image.hpp"

namespace ortformers::preprocessing {

// A local image path (string, or {"image": path}); URLs and base64 are UnsupportedError, others InvalidArgument.
Image image_from_json(const Json& input, const std::string& pipeline_name);
// The file path of an image input (empty for in-memory inputs).
std::string image_path_of(const Json& input);

// Audio input of the audio pipelines, mono at `sampling_rate`:
// - a path (string): decoded, channels averaged, resampled to sampling_rate (the file's rate is converted with
//   torchaudio's sinc resampler; transformers decodes paths with ffmpeg, whose resampler differs slightly);
// - {"raw" | "array": [samples...], "sampling_rate": sr}: resampled as the pipeline does (torchaudio); a
//   non-1-D array is InvalidArgument "We expect a single channel audio input for <pipeline_name>";
// - a bare array of samples: taken as already at sampling_rate.
// Zero-length audio is InvalidArgument.
std::vector<float> audio_from_json(const Json& input, int sampling_rate, const std::string& pipeline_name);

}  // namespace ortformers::preprocessing
