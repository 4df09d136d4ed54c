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

std::string GraphBuilder::add_float_data(const std::string& key, const std::string& name, const Shape& shape,
                                         DeferredTensor data) {
  if (auto it = by_key_.find(key); it != by_key_.end()) return it->second;
  auto* t = new_initializer(key, name, onnx::TensorProto_DataType_FLOAT, shape);
  data.nbytes = static_cast<std::size_t>(shape_numel(shape)) * sizeof(float);
  initializer_bytes_ += data.nbytes;
  if (data.nbytes >= kDeferBytes) {
    t->set_raw_data(std::string());
    deferred_.emplace(t->name(), std::move(data));
    return t->name();
  }
  auto* raw = t->mutable_raw_data();
  raw->resize(data.nbytes);
  if (data.direct != nullptr)
    std::memcpy(raw->data(), data.direct, data.nbytes);
  else
    data.fill(raw->data());
  return t->name();
}

std::string GraphBuilder::add_float_initializer(const std::string& key, const std::string& name, const Shape& shape,
                                                std::function<void(float*)> fill) {
  DeferredTensor d;
  d.fill = [f = std::move(fill)](char* dst) { f(reinterpret_cast<float*>(dst)); };
  return add_float_data(key, name, shape, std::move(d));
}

std::string GraphBuilder::add_borrowed_float_initializer(const std::string& key, const std::string& name,
                                                         const Shape& shape, const float* data) {
  DeferredTensor d;
  d.direct = data;
  return add_float_data(key, name, shape, std::move(d));
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
  // The graph outputs keep the dims declared (optimum's names): inference would replace a symbolic dim it can
  // compute with a number (Pix2Struct's present.<i>.encoder.* "encoder_sequence_length_out" with max_patches).
  const auto declared_outputs = model.graph().output();
  try {
    onnx::shape_inference::InferShapes(model, onnx::OpSchemaRegistry::Instance(),
                                       onnx::ShapeInferenceOptions(true, 1, false));
  } catch (const std::exception& e) {
    throw RuntimeError(std::string("ONNX shape inference failed on the exported graph: ") + e.what());
  }
  *model.mutable_graph()->mutable_output() = declared_outputs;
}

void materialize(onnx::ModelProto& model, DeferredInitializers& deferred) {
  for (auto& t : *model.mutable_graph()->mutable_initializer()) {
    auto it = deferred.find(t.name());
    if (it == deferred.end()) continue;
    auto* raw = t.mutable_raw_data();
    raw->resize(it->second.nbytes);
    if (it->second.direct != nullptr)
      std::memcpy(raw->data(), it->second.direct, it->second.nbytes);
    else
      it->second.fill(raw->data());
  }
  deferred.clear();
}

namespace {

void put_varint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}
std::size_t varint_size(std::uint64_t v) {
  std::size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

class Writer {
 public:
  explicit Writer(const std::filesystem::path& file) : file_(file), out_(file, std::ios::binary | std::ios::trunc) {
    if (!out_) throw RuntimeError("cannot write " + file.string());
  }
  void write(const void* p, std::size_t n) {
    out_.write(static_cast<const char*>(p), static_cast<std::streamsize>(n));
    written_ += n;
  }
  void write(const std::string& s) { write(s.data(), s.size()); }
  // Writes a tensor's data: directly, or through a reused buffer filled by the generator.
  void write(const DeferredTensor& d) {
    if (d.direct != nullptr) return write(d.direct, d.nbytes);
    buffer_.resize(d.nbytes);
    d.fill(buffer_.data());
    write(buffer_.data(), d.nbytes);
    if (buffer_.capacity() > (std::size_t{64} << 20)) std::vector<char>().swap(buffer_);
  }
  std::uint64_t close() {
    out_.close();
    if (!out_) throw RuntimeError("failed writing " + file_.string());
    return written_;
  }
  std::uint64_t written() const { return written_; }

 private:
  std::filesystem::path file_;
  std::ofstream out_;
  std::uint64_t written_ = 0;
  std::vector<char> buffer_;
};

}  // namespace

std::uintmax_t save_model(onnx::ModelProto& model, const DeferredInitializers& deferred,
                          const std::filesystem::path& file, std::uintmax_t external_threshold) {
  auto* graph = model.mutable_graph();
  std::uintmax_t total = 0;
  for (const auto& t : graph->initializer()) {
    auto it = deferred.find(t.name());
    total += it != deferred.end() ? it->second.nbytes : t.raw_data().size();
  }
  auto data_of = [&](const onnx::TensorProto& t) -> DeferredTensor {
    auto it = deferred.find(t.name());
    if (it != deferred.end()) return it->second;
    DeferredTensor d;
    d.nbytes = t.raw_data().size();
    d.direct = t.raw_data().data();
    return d;
  };

  std::uintmax_t written = 0;
  if (total > external_threshold) {
    // External data: every tensor of 1 KiB or more goes to "<file>.data", aligned to 4 KiB.
    const auto data_name = file.filename().string() + ".data";
    Writer data(file.parent_path() / data_name);
    static const char zeros[4096] = {};
    for (auto& t : *graph->mutable_initializer()) {
      const auto d = data_of(t);
      if (d.nbytes < 1024) {
        if (deferred.count(t.name()) != 0) {  // small deferred tensor: keep it inline
          std::string raw(d.nbytes, '\0');
          if (d.direct != nullptr)
            std::memcpy(raw.data(), d.direct, d.nbytes);
          else
            d.fill(raw.data());
          t.set_raw_data(raw);
        }
        continue;
      }
      const std::uint64_t pad = (4096 - data.written() % 4096) % 4096;
      data.write(zeros, pad);
      const auto offset = data.written();
      data.write(d);
      auto add = [&](const std::string& k, const std::string& v) {
        auto* e = t.add_external_data();
        e->set_key(k);
        e->set_value(v);
      };
      add("location", data_name);
      add("offset", std::to_string(offset));
      add("length", std::to_string(d.nbytes));
      t.set_data_location(onnx::TensorProto_DataLocation_EXTERNAL);
      t.clear_raw_data();
    }
    written += data.close();
    Writer out(file);
    out.write(model.SerializeAsString());
    written += out.close();
    return written;
  }

  // Inline: ModelProto fields without the graph, then the graph (field 7) whose initializers (field 5) are written
  // one by one, each TensorProto's raw_data (field 9) streamed from its source. Protobuf accepts fields in any order.
  onnx::GraphProto g;
  g.Swap(graph);
  google::protobuf::RepeatedPtrField<onnx::TensorProto> inits;
  inits.Swap(g.mutable_initializer());
  struct Piece {
    std::string head;  // TensorProto without raw_data
    DeferredTensor data;
    std::uint64_t length;  // whole TensorProto
    bool streamed = true;  // raw_data written after `head`
  };
  std::vector<Piece> pieces;
  pieces.reserve(static_cast<std::size_t>(inits.size()));
  std::uint64_t graph_len = 0;
  for (auto& t : inits) {
    Piece p;
    // Only raw_data is streamed; a tensor holding typed fields (int64_data...) is written whole.
    p.streamed = deferred.count(t.name()) != 0 || t.has_raw_data();
    if (p.streamed) {
      p.data = data_of(t);
      onnx::TensorProto head = t;
      head.clear_raw_data();
      p.head = head.SerializeAsString();
    } else {
      p.head = t.SerializeAsString();
    }
    p.length = p.head.size() + (p.streamed ? 1 + varint_size(p.data.nbytes) + p.data.nbytes : 0);
    graph_len += 1 + varint_size(p.length) + p.length;
    pieces.push_back(std::move(p));
  }
  const std::string graph_rest = g.SerializeAsString();
  graph_len += graph_rest.size();
  const std::string model_rest = model.SerializeAsString();

  Writer out(file);
  out.write(model_rest);
  std::string tag;
  tag.push_back(static_cast<char>((7 << 3) | 2));
  put_varint(tag, graph_len);
  out.write(tag);
  out.write(graph_rest);
  for (const auto& p : pieces) {
    std::string h;
    h.push_back(static_cast<char>((5 << 3) | 2));
    put_varint(h, p.length);
    h += p.head;
    if (!p.streamed) {
      out.write(h);
      continue;
    }
    h.push_back(static_cast<char>((9 << 3) | 2));
    put_varint(h, p.data.nbytes);
    out.write(h);
    out.write(p.data);
  }
  written += out.close();
  // Restore the graph (without the streamed data) so that the caller's model stays usable.
  inits.Swap(g.mutable_initializer());
  g.Swap(graph);
  return written;
}

}  // namespace ortformers::exporters
