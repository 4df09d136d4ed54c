// optimum's merged decoder (optimum.onnx.merge_decoders, decoder_model_merged.onnx): the decoder without past and
// the decoder with past in one graph, chosen at run time by the boolean input use_cache_branch through an If node
// (then: with past, else: without). The weights both graphs share are stored once, in the outer graph; every value
// a branch computes is renamed with the branch's prefix so the two subgraphs and the outer graph never share a name.
#include <map>
#include <set>

#include "export/exporter.hpp"
#include "ortformers/core/error.hpp"

namespace ortformers::exporters {

namespace {

bool same_tensor(const onnx::TensorProto& a, const onnx::TensorProto& b) {
  if (a.data_type() != b.data_type() || a.dims_size() != b.dims_size()) return false;
  for (int i = 0; i < a.dims_size(); ++i)
    if (a.dims(i) != b.dims(i)) return false;
  return a.SerializeAsString() == b.SerializeAsString() ||
         (a.raw_data() == b.raw_data() && a.float_data_size() == 0 && b.float_data_size() == 0 &&
          a.int64_data_size() == 0 && b.int64_data_size() == 0 && a.int32_data_size() == 0 &&
          b.int32_data_size() == 0 && a.external_data_size() == 0 && b.external_data_size() == 0);
}

// The nodes of `src` as the branch subgraph `branch`, whose outputs are `outputs` (the If node's): values outside
// `outer` are prefixed, initializers renamed as `renames` says. An output `src` does not compute (the encoder
// key/values a decoder with past takes instead of computing) is a Constant of zeros with batch 0, the fixed dims
// kept and the symbolic ones 1, as optimum's _unify_onnx_outputs writes it (the caller keeps the first step's).
void fill_branch(onnx::GraphProto& branch, const onnx::GraphProto& src, const std::string& name,
                 const std::set<std::string>& outer, const std::map<std::string, std::string>& renames,
                 const google::protobuf::RepeatedPtrField<onnx::ValueInfoProto>& outputs) {
  const std::string prefix = "/" + name;
  auto rn = [&](const std::string& v) -> std::string {
    if (v.empty()) return v;
    if (auto it = renames.find(v); it != renames.end()) return it->second;
    if (outer.count(v) != 0) return v;
    return prefix + (v.front() == '/' ? v : "/" + v);
  };
  branch.set_name(name);
  for (const auto& n : src.node()) {
    auto* m = branch.add_node();
    *m = n;
    m->set_name(prefix + (n.name().empty() || n.name().front() == '/' ? n.name() : "/" + n.name()));
    for (int i = 0; i < m->input_size(); ++i) m->set_input(i, rn(n.input(i)));
    for (int i = 0; i < m->output_size(); ++i) m->set_output(i, rn(n.output(i)));
    for (const auto& a : n.attribute())
      if (a.has_g() || a.graphs_size() > 0)
        throw RuntimeError("internal: merge_decoders does not handle nested subgraphs (node " + n.name() + ")");
  }
  std::map<std::string, const onnx::ValueInfoProto*> computed;
  for (const auto& o : src.output()) computed[o.name()] = &o;
  for (const auto& o : outputs) {
    auto* vi = branch.add_output();
    if (auto it = computed.find(o.name()); it != computed.end()) {
      *vi = *it->second;
      vi->set_name(rn(o.name()));
      continue;
    }
    *vi = o;
    vi->set_name(rn(o.name()));
    const auto& shape = o.type().tensor_type().shape();
    if (shape.dim_size() == 0 || shape.dim(0).has_dim_value())
      throw RuntimeError("internal: merge_decoders: output '" + o.name() + "' has no symbolic batch dimension");
    auto* c = branch.add_node();
    c->set_name(prefix + "/empty/" + o.name());
    c->set_op_type("Constant");
    c->add_output(vi->name());
    auto* at = c->add_attribute();
    at->set_name("value");
    at->set_type(onnx::AttributeProto::TENSOR);
    auto* t = at->mutable_t();
    t->set_data_type(o.type().tensor_type().elem_type());
    t->add_dims(0);
    for (int d = 1; d < shape.dim_size(); ++d) t->add_dims(shape.dim(d).has_dim_value() ? shape.dim(d).dim_value() : 1);
    t->set_raw_data(std::string());
  }
}

}  // namespace

onnx::ModelProto merge_decoders(const onnx::ModelProto& no_past, const onnx::ModelProto& with_past) {
  const auto& a = no_past.graph();
  const auto& b = with_past.graph();
  // The merged outputs are those of the decoder without past; the decoder with past computes all or some of them.
  std::set<std::string> a_outputs;
  for (const auto& o : a.output()) a_outputs.insert(o.name());
  for (const auto& o : b.output())
    if (a_outputs.count(o.name()) == 0)
      throw RuntimeError("internal: merge_decoders: output '" + o.name() +
                         "' of the decoder with past is not an output of the decoder without past");

  onnx::ModelProto merged;
  merged.set_ir_version(std::max(no_past.ir_version(), with_past.ir_version()));
  merged.set_producer_name(with_past.producer_name());
  merged.set_producer_version(with_past.producer_version());
  std::map<std::string, std::int64_t> opsets;
  for (const auto* m : {&no_past, &with_past})
    for (const auto& o : m->opset_import()) opsets[o.domain()] = std::max(opsets[o.domain()], o.version());
  for (const auto& [domain, version] : opsets) {
    auto* o = merged.add_opset_import();
    o->set_domain(domain);
    o->set_version(version);
  }
  for (const auto& p : with_past.metadata_props()) *merged.add_metadata_props() = p;

  auto* g = merged.mutable_graph();
  g->set_name("merged_decoder");
  // Inputs: the decoder's (input_ids, attention_mask), then the past, then use_cache_branch (optimum's order).
  std::set<std::string> outer;
  for (const auto* src : {&a, &b})
    for (const auto& in : src->input()) {
      if (outer.count(in.name()) != 0) continue;
      auto* vi = g->add_input();
      *vi = in;
      if (in.name() == "attention_mask") {
        auto* dim = vi->mutable_type()->mutable_tensor_type()->mutable_shape()->mutable_dim(1);
        dim->set_dim_param("attention_mask_sequence_length");
      }
      outer.insert(in.name());
    }
  auto* cond = g->add_input();
  cond->set_name("use_cache_branch");
  cond->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto_DataType_BOOL);
  cond->mutable_type()->mutable_tensor_type()->mutable_shape()->add_dim()->set_dim_value(1);
  outer.insert("use_cache_branch");

  // Initializers: every one of the graph without past; those of the graph with past too unless the same tensor is
  // there under the same name (a name with other contents is renamed).
  std::map<std::string, const onnx::TensorProto*> by_name;
  for (const auto& t : a.initializer()) {
    *g->add_initializer() = t;
    by_name[t.name()] = &t;
    outer.insert(t.name());
  }
  std::map<std::string, std::string> renames_b;
  for (const auto& t : b.initializer()) {
    auto it = by_name.find(t.name());
    if (it != by_name.end() && same_tensor(*it->second, t)) continue;
    auto* copy = g->add_initializer();
    *copy = t;
    if (it != by_name.end()) {
      copy->set_name("/with_past" + (t.name().front() == '/' ? t.name() : "/" + t.name()));
      renames_b[t.name()] = copy->name();
    }
    outer.insert(copy->name());
  }

  auto* node = g->add_node();
  node->set_name("optimum::if");
  node->set_op_type("If");
  node->add_input("use_cache_branch");
  for (const auto& o : a.output()) {
    node->add_output(o.name());
    *g->add_output() = o;
  }
  // The outputs' names are If outputs in the outer graph: the branches' own outputs get their prefixes.
  std::set<std::string> outer_values = outer;
  auto* then_attr = node->add_attribute();
  then_attr->set_name("then_branch");
  then_attr->set_type(onnx::AttributeProto::GRAPH);
  fill_branch(*then_attr->mutable_g(), b, "with_past", outer_values, renames_b, a.output());
  auto* else_attr = node->add_attribute();
  else_attr->set_name("else_branch");
  else_attr->set_type(onnx::AttributeProto::GRAPH);
  fill_branch(*else_attr->mutable_g(), a, "no_past", outer_values, {}, a.output());
  return merged;
}

}  // namespace ortformers::exporters
