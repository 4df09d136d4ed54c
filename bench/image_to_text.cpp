// Captions per second of pipeline("image-to-text") on the media images (not a test): every image of
// ../shared/fixtures/media/images captioned `rounds` times, greedy, max_new_tokens N, one image per call, as
// bench/image_to_text_bench.sh runs transformers.js on the same ONNX files. Prints one JSON line per model.
//   bench_image_to_text [--rounds R] [--max-new-tokens N] [--threads T] MODEL_DIR...
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "ortformers/core/json.hpp"
#include "ortformers/pipelines/image_to_text.hpp"

namespace fs = std::filesystem;
using namespace ortformers;

namespace {

fs::path fixtures() {
  if (const char* e = std::getenv("ORTFORMERS_FIXTURES")) return e;
  for (fs::path p = fs::current_path(); !p.empty() && p != p.root_path(); p = p.parent_path())
    if (fs::exists(p / "shared" / "fixtures")) return p / "shared" / "fixtures";
  return "/work/shared/fixtures";
}

}  // namespace

int main(int argc, char** argv) {
  int rounds = 5, max_new_tokens = 20, threads = 2;
  std::vector<std::string> models;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> int {
      if (i + 1 >= argc) {
        std::cerr << a << " needs a value\n";
        std::exit(2);
      }
      return std::stoi(argv[++i]);
    };
    if (a == "--rounds")
      rounds = next();
    else if (a == "--max-new-tokens")
      max_new_tokens = next();
    else if (a == "--threads")
      threads = next();
    else
      models.push_back(a);
  }
  if (models.empty()) {
    std::cerr << "usage: bench_image_to_text [--rounds R] [--max-new-tokens N] [--threads T] MODEL_DIR...\n";
    return 2;
  }
  std::vector<fs::path> images;
  for (const auto& e : fs::directory_iterator(fixtures() / "media" / "images"))
    if (e.path().extension() == ".png" || e.path().extension() == ".jpg") images.push_back(e.path());
  std::sort(images.begin(), images.end());
  for (const auto& dir : models) {
    pipelines::PipelineOptions o;
    o.model.session.intra_op_num_threads = threads;
    pipelines::ImageToTextPipeline pipe(dir, o);
    const Json kwargs{{"max_new_tokens", max_new_tokens}};
    pipe.call(images.front().string(), kwargs);  // warm-up
    std::size_t captions = 0;
    const auto t0 = std::chrono::steady_clock::now();
    for (int r = 0; r < rounds; ++r) {
      for (const auto& img : images) {
        pipe.call(img.string(), kwargs);
        ++captions;
      }
    }
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::cout << Json{{"engine", "ortformers"},
                      {"model", fs::path(dir).filename().string()},
                      {"images", images.size()},
                      {"captions", captions},
                      {"seconds", s},
                      {"captions_per_s", captions / s},
                      {"ms_per_caption", 1000.0 * s / captions}}
                     .dump()
              << std::endl;
  }
  return 0;
}
