#include "export/graph/graph_builder.hpp"

#include <onnx/checker.h>
#include <onnx/shape_inference/implementation.h>

#include <google/protobuf/io/zero_copy_stream_impl.h>
#include <cstring>
#include <fstream>

#include "ortformers/core/error.hpp"

namespace ortformers::exporters {

namespace {

void set_dims(onnx::ValueInfoProto* vi, int elem_type, const std::vector<Dim>& dims) {
  auto* tt = vi->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(elem_type);
  auto* shape = tt->mutable_shape();
  for (const auto& d : dims) {
    auto* dim = shape->add_dim();
    if (const auto* s = std::get_if<std::string>(&d))
      dim->set_dim_param(*s);
    else
      dim->set_dim_value(std::get<std::int64_t>(d));
  }
}

std::string content_key(const char* kind, const void* data, std::size_t nbytes, const Shape& shape) {
  std::string key = kind;
  key += shape_to_string(shape);
  key.append(static_cast<const char*>(data), nbytes);
  return key;
}

}  // namespace

GraphBuilder::GraphBuilder(int opset, std::string graph_name) : opset_(opset) {
  graph_.set_name(std::move(graph_name));
}

void GraphBuilder::add_input(const std::string& name, int elem_type, const std::vector<Dim>& dims) {
  set_dims(graph_.add_input(), elem_type, dims);
  graph_.mutable_input(graph_.input_size() - 1)->set_name(name);
}

void GraphBuilder::add_output(const std::string& name, int elem_type, const std::vector<Dim>& dims) {
  set_dims(graph_.add_output(), elem_type, dims);
  graph_.mutable_output(graph_.output_size() - 1)->set_name(name);
}

onnx::TensorProto* GraphBuilder::new_initializer(const std::string& key, const std::string& name, int elem_type,
                                                 const Shape& shape) {
  std::string unique = name;
  for (int i = 1; names_.count(unique) != 0; ++i) unique = name + "_" + std::to_string(i);
  names_.insert(unique);
  auto* t = graph_.add_initializer();
  t->set_name(unique);
  t->set_data_type(elem_type);
  for (auto d : shape) t->add_dims(d);
  by_key_.emplace(key, unique);
  return t;
}

std::string GraphBuilder::add_float_initializer(const std::string& key, const std::string& name, const Shape& shape,
                                                const std::function<void(float*)>& fill) {
  if (auto it = by_key_.find(key); it != by_key_.end()) return it->second;
  auto* t = new_initializer(key, name, onnx::TensorProto_DataType_FLOAT, shape);
  const auto n = static_cast<std::size_t>(shape_numel(shape));
  auto* raw = t->mutable_raw_data();
  raw->resize(n * sizeof(float));
  fill(reinterpret_cast<float*>(raw->data()));
  initializer_bytes_ += raw->size();
  return t->name();
}

std::string GraphBuilder::add_raw_initializer(const std::string& key, const std::string& name, int elem_type,
                                              const Shape& shape, const void* data, std::size_t nbytes) {
  if (auto it = by_key_.find(key); it != by_key_.end()) return it->second;
  auto* t = new_initializer(key, name, elem_type, shape);
  t->set_raw_data(data, nbytes);
  initializer_bytes_ += nbytes;
  return t->name();
}

std::string GraphBuilder::const_i64(const std::vector<std::int64_t>& values, const Shape& shape) {
  const auto key = content_key("i64", values.data(), values.size() * sizeof(std::int64_t), shape);
  if (auto it = by_key_.find(key); it != by_key_.end()) return it->second;
  return add_raw_initializer(key, "/const/i64_" + std::to_string(const_counter_++), onnx::TensorProto_DataType_INT64,
                             shape, values.data(), values.size() * sizeof(std::int64_t));
}

std::string GraphBuilder::const_f32(const std::vector<float>& values, const Shape& shape) {
  const auto key = content_key("f32", values.data(), values.size() * sizeof(float), shape);
  if (auto it = by_key_.find(key); it != by_key_.end()) return it->second;
  return add_raw_initializer(key, "/const/f32_" + std::to_string(const_counter_++), onnx::TensorProto_DataType_FLOAT,
                             shape, values.data(), values.size() * sizeof(float));
}

std::string GraphBuilder::unique_node_name(const std::string& base) {
  int& count = name_counts_[base];
  std::string name = count == 0 ? base : base + "_" + std::to_string(count);
  ++count;
  while (names_.count(name) != 0) name = base + "_" + std::to_string(count++);
  names_.insert(name);
  return name;
}

std::vector<std::string> GraphBuilder::node_n(const std::string& scope, const std::string& op_type,
                                              const std::vector<std::string>& inputs, int num_outputs,
                                              const std::vector<Attr>& attrs, const std::string& domain) {
  auto* n = graph_.add_node();
  const std::string name = unique_node_name(scope + "/" + op_type);
  n->set_name(name);
  n->set_op_type(op_type);
  if (!domain.empty()) {
    n->set_domain(domain);
    if (domain == kMsDomain) uses_ms_domain_ = true;
  }
  for (const auto& in : inputs) n->add_input(in);
  std::vector<std::string> outs;
  for (int i = 0; i < num_outputs; ++i) {
    outs.push_back(name + "_output_" + std::to_string(i));
    n->add_output(outs.back());
  }
  for (const auto& a : attrs) {
    auto* pa = n->add_attribute();
    pa->set_name(a.name);
    std::visit(
        [&](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, std::int64_t>) {
            pa->set_type(onnx::AttributeProto_AttributeType_INT);
            pa->set_i(v);
          } else if constexpr (std::is_same_v<T, float>) {
            pa->set_type(onnx::AttributeProto_AttributeType_FLOAT);
            pa->set_f(v);
          } else if constexpr (std::is_same_v<T, std::string>) {
            pa->set_type(onnx::AttributeProto_AttributeType_STRING);
            pa->set_s(v);
          } else if constexpr (std::is_same_v<T, std::vector<std::int64_t>>) {
            pa->set_type(onnx::AttributeProto_AttributeType_INTS);
            for (auto x : v) pa->add_ints(x);
          } else {
            pa->set_type(onnx::AttributeProto_AttributeType_FLOATS);
            for (auto x : v) pa->add_floats(x);
          }
        },
        a.value);
  }
  return outs;
}

void GraphBuilder::rename_value(const std::string& value, const std::string& new_name) {
  for (int i = graph_.node_size() - 1; i >= 0; --i) {
    auto* n = graph_.mutable_node(i);
    for (int j = 0; j < n->output_size(); ++j) {
      if (n->output(j) == value) {
        n->set_output(j, new_name);
        // Later consumers (none are expected, but keep the graph consistent).
        for (int k = i + 1; k < graph_.node_size(); ++k) {
          auto* m = graph_.mutable_node(k);
          for (int q = 0; q < m->input_size(); ++q)
            if (m->input(q) == value) m->set_input(q, new_name);
        }
        return;
      }
    }
  }
  // A graph input or initializer passed straight through: add an Identity.
  auto* n = graph_.add_node();
  n->set_name(unique_node_name("/" + new_name + "/Identity"));
  n->set_op_type("Identity");
  n->add_input(value);
  n->add_output(new_name);
}

onnx::ModelProto GraphBuilder::finish(const std::string& producer_version) {
  onnx::ModelProto model;
  model.set_ir_version(8);  // ONNX 1.12 / opset 17
  model.set_producer_name("ortformers");
  model.set_producer_version(producer_version);
  auto* op = model.add_opset_import();
  op->set_domain("");
  op->set_version(opset_);
  if (uses_ms_domain_) {
    auto* ms = model.add_opset_import();
    ms->set_domain(kMsDomain);
    ms->set_version(1);
  }
  *model.mutable_graph() = std::move(graph_);
  graph_ = onnx::GraphProto();
  return model;
}

void check_and_infer(onnx::ModelProto& model, bool infer_shapes) {
  try {
    onnx::checker::check_model(model);
  } catch (const std::exception& e) {
    throw RuntimeError(std::string("exported graph failed the ONNX checker: ") + e.what());
  }
  if (!infer_shapes) return;
  try {
    onnx::shape_inference::InferShapes(model, onnx::OpSchemaRegistry::Instance(),
                                       onnx::ShapeInferenceOptions(true, 1, false));
  } catch (const std::exception& e) {
    throw RuntimeError(std::string("ONNX shape inference failed on the exported graph: ") + e.what());
  }
}

std::uintmax_t save_model(onnx::ModelProto& model, const std::filesystem::path& file,
                          std::uintmax_t external_threshold) {
  std::uintmax_t total = 0;
  for (const auto& t : model.graph().initializer()) total += t.raw_data().size();
  std::uintmax_t written = 0;
  if (total > external_threshold) {
    const auto data_name = file.filename().string() + ".data";
    const auto data_path = file.parent_path() / data_name;
    std::ofstream data(data_path, std::ios::binary | std::ios::trunc);
    if (!data) throw RuntimeError("cannot write " + data_path.string());
    std::uint64_t offset = 0;
    for (auto& t : *model.mutable_graph()->mutable_initializer()) {
      if (t.raw_data().size() < 1024) continue;
      // Align every tensor to 4096 bytes (what onnx's external data helper does with alignment on).
      const std::uint64_t pad = (4096 - offset % 4096) % 4096;
      static const char zeros[4096] = {};
      data.write(zeros, static_cast<std::streamsize>(pad));
      offset += pad;
      const auto& raw = t.raw_data();
      data.write(raw.data(), static_cast<std::streamsize>(raw.size()));
      auto add = [&](const std::string& k, const std::string& v) {
        auto* e = t.add_external_data();
        e->set_key(k);
        e->set_value(v);
      };
      add("location", data_name);
      add("offset", std::to_string(offset));
      add("length", std::to_string(raw.size()));
      offset += raw.size();
      t.set_data_location(onnx::TensorProto_DataLocation_EXTERNAL);
      t.clear_raw_data();
    }
    data.close();
    if (!data) throw RuntimeError("failed writing " + data_path.string());
    written += offset;
  }
  {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    if (!out) throw RuntimeError("cannot write " + file.string());
    google::protobuf::io::OstreamOutputStream zstream(&out);
    if (!model.SerializeToZeroCopyStream(&zstream)) throw RuntimeError("failed to serialise " + file.string());
  }
  written += std::filesystem::file_size(file);
  return written;
}

}  // namespace ortformers::exporters
