#include "ortformers/models/vision2seq.hpp"

#include "encoder_decoder_graphs.hpp"
#include "ortformers/core/error.hpp"

namespace ortformers::models {

namespace {

void require_encoder_inputs(const runtime::Session& encoder, const std::filesystem::path& path,
                            std::initializer_list<const char*> names, const char* class_name, const char* kind) {
  for (const char* name : names) {
    if (!encoder.has_input(name)) {
      throw UnsupportedError(std::string(class_name) + ": the encoder " + path.string() + " has no '" + name +
                             "' input (not " + kind + ")");
    }
  }
}

void reject_unknown(const TensorMap& inputs, std::initializer_list<const char*> allowed, const std::string& what) {
  for (const auto& [name, t] : inputs) {
    bool known = false;
    std::string list;
    for (const char* a : allowed) {
      known = known || name == a;
      list += (list.empty() ? "" : ", ") + std::string(a);
    }
    if (!known) throw InvalidArgument(what + ": unexpected input '" + name + "' (the encoder takes " + list + ")");
  }
}

// A float tensor as float32, with the rank and the graph's fixed dimensions checked.
Tensor float_input(const Tensor& t, const runtime::Session& encoder, const std::string& name, const std::string& what,
                   const char* layout) {
  if (!t.defined()) throw InvalidArgument(what + ": " + name + " is required");
  const auto* info = encoder.input(name);
  const std::size_t rank = info ? info->shape.size() : 0;
  if (rank && static_cast<std::size_t>(t.rank()) != rank) {
    throw InvalidArgument(what + ": " + name + " must be " + layout + ", got shape " + shape_to_string(t.shape()));
  }
  if (t.numel() == 0) throw InvalidArgument(what + ": " + name + " is empty, shape " + shape_to_string(t.shape()));
  for (std::size_t d = 1; d < rank; ++d) {
    if (info->shape[d] > 0 && t.dim(static_cast<int>(d)) != info->shape[d]) {
      throw InvalidArgument(what + ": " + name + " has shape " + shape_to_string(t.shape()) + " but the encoder (" +
                            encoder.model_path() + ") takes " + layout + " with dimension " + std::to_string(d) +
                            " = " + std::to_string(info->shape[d]));
    }
  }
  const DType d = t.dtype();
  if (d == DType::Float32) return t;
  if (d == DType::Float64 || d == DType::Float16 || d == DType::BFloat16) return t.to(DType::Float32);
  throw InvalidArgument(what + ": " + name + " must be a float tensor, got " + dtype_name(d));
}

}  // namespace

ORTModelForVision2Seq ORTModelForVision2Seq::from_pretrained(const std::string& model_id_or_path,
                                                             const Vision2SeqOptions& options) {
  ORTModelForVision2Seq m;
  m.load_encoder_decoder(model_id_or_path, options, "image-to-text-with-past", "ORTModelForVision2Seq");
  require_encoder_inputs(*m.graphs_->encoder, m.graphs_->encoder_path, {"pixel_values"}, "ORTModelForVision2Seq",
                         "a pixel encoder");
  return m;
}

TensorMap ORTModelForVision2Seq::encoder_feed(const TensorMap& inputs, Tensor& attention_mask) const {
  const std::string what = "ORTModelForVision2Seq encoder";
  reject_unknown(inputs, {"pixel_values"}, what);
  auto it = inputs.find("pixel_values");
  if (it == inputs.end()) throw InvalidArgument(what + ": pixel_values is required");
  attention_mask = Tensor();
  const Tensor pixels =
      float_input(it->second, *graphs_->encoder, "pixel_values", what, "[batch, channels, height, width]");
  // ViT / DeiT encoders (no position interpolation in the export) take exactly config.encoder.image_size; the graph's
  // height and width are symbolic, so check them here rather than let the position-embedding Add fail.
  const Json& cfg = config().json();
  if (cfg.contains("encoder") && cfg.at("encoder").is_object()) {
    const Json& enc = cfg.at("encoder");
    const std::string type = enc.value("model_type", std::string());
    if ((type == "vit" || type == "deit") && enc.contains("image_size") && enc.at("image_size").is_number_integer()) {
      const auto size = enc.at("image_size").get<std::int64_t>();
      if (pixels.dim(2) != size || pixels.dim(3) != size) {
        throw InvalidArgument(what + ": pixel_values has shape " + shape_to_string(pixels.shape()) + " but the " +
                              type + " encoder takes " + std::to_string(size) + "x" + std::to_string(size) +
                              " images (encoder.image_size in " + config().source() + ")");
      }
    }
  }
  return TensorMap{{"pixel_values", pixels}};
}

Seq2SeqLMOutput ORTModelForVision2Seq::forward(const Tensor& pixel_values, const Tensor& decoder_input_ids,
                                               const EncoderDecoderCache& past_key_values,
                                               const EncoderOutput* encoder_outputs) const {
  if (encoder_outputs) return decode(decoder_input_ids, *encoder_outputs, past_key_values);
  return decode(decoder_input_ids, encode({{"pixel_values", pixel_values}}), past_key_values);
}

ORTModelForPix2Struct ORTModelForPix2Struct::from_pretrained(const std::string& model_id_or_path,
                                                             const Vision2SeqOptions& options) {
  ORTModelForPix2Struct m;
  m.load_encoder_decoder(model_id_or_path, options, "image-to-text-with-past", "ORTModelForPix2Struct");
  require_encoder_inputs(*m.graphs_->encoder, m.graphs_->encoder_path, {"flattened_patches", "attention_mask"},
                         "ORTModelForPix2Struct", "a Pix2Struct encoder");
  return m;
}

TensorMap ORTModelForPix2Struct::encoder_feed(const TensorMap& inputs, Tensor& attention_mask) const {
  const std::string what = "ORTModelForPix2Struct encoder";
  reject_unknown(inputs, {"flattened_patches", "attention_mask"}, what);
  auto it = inputs.find("flattened_patches");
  if (it == inputs.end()) throw InvalidArgument(what + ": flattened_patches is required");
  const Tensor patches = float_input(it->second, *graphs_->encoder, "flattened_patches", what,
                                     "[batch, max_patches, 2 + patch_height * patch_width * channels]");
  Tensor mask;
  if (auto m = inputs.find("attention_mask"); m != inputs.end() && m->second.defined()) {
    const Shape want{patches.dim(0), patches.dim(1)};
    if (m->second.shape() != want) {
      throw InvalidArgument(what + ": attention_mask has shape " + shape_to_string(m->second.shape()) +
                            " but flattened_patches needs " + shape_to_string(want));
    }
    const DType d = m->second.dtype();
    if (d == DType::Int64) {
      mask = m->second;
    } else if (d == DType::Int32 || d == DType::Bool || d == DType::Float32 || d == DType::Float64) {
      mask = m->second.to(DType::Int64);  // the processor's float32 0 / 1 mask; the graphs take int64
    } else {
      throw InvalidArgument(what + ": attention_mask must be float32 or int64 (or int32 / bool), got " + dtype_name(d));
    }
  } else {
    mask = Tensor::from_vector(std::vector<std::int64_t>(static_cast<std::size_t>(patches.dim(0) * patches.dim(1)), 1),
                               {patches.dim(0), patches.dim(1)});
  }
  attention_mask = mask;
  return TensorMap{{"flattened_patches", patches}, {"attention_mask", mask}};
}

Seq2SeqLMOutput ORTModelForPix2Struct::forward(const Tensor& flattened_patches, const Tensor& attention_mask,
                                               const Tensor& decoder_input_ids, const Tensor& decoder_attention_mask,
                                               const EncoderDecoderCache& past_key_values,
                                               const EncoderOutput* encoder_outputs) const {
  if (encoder_outputs) return decode(decoder_input_ids, *encoder_outputs, past_key_values, decoder_attention_mask);
  TensorMap in{{"flattened_patches", flattened_patches}};
  if (attention_mask.defined()) in.emplace("attention_mask", attention_mask);
  return decode(decoder_input_ids, encode(in), past_key_values, decoder_attention_mask);
}

}  // namespace ortformers::models
