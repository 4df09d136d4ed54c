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

// The nodes and outputs of `src` as the branch subgraph `branch`: values outside `outer` are prefixed, initializers
// renamed as `renames` says.
void fill_branch(onnx::GraphProto& branch, const onnx::GraphProto& src, const std::string& name,
                 const std::set<std::string>& outer, const std::map<std::string, std::string>& renames) {
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
  for (const auto& o : src.output()) {
    auto* vi = branch.add_output();
    *vi = o;
    vi->set_name(rn(o.name()));
  }
}

// Completes the outputs of `branch` (filled from `src`, whose outputs are a subset of `all`'s, in order) to those of
// `all`: each missing one is a Constant of its element type with no elements (dimension 0 for the batch, the fixed
// sizes where the output has them, 1 for other symbolic dimensions), as optimum's merge returns the cross-attention
// presents from the cache branch.
void add_empty_outputs(onnx::GraphProto& branch, const onnx::GraphProto& src, const onnx::GraphProto& all,
                       const std::string& name) {
  if (branch.output_size() == all.output_size()) return;
  std::map<std::string, onnx::ValueInfoProto> have;  // by the output's name in `src`
  for (int i = 0; i < src.output_size(); ++i) have[src.output(i).name()] = branch.output(i);
  branch.clear_output();
  for (const auto& o : all.output()) {
    if (auto it = have.find(o.name()); it != have.end()) {
      *branch.add_output() = it->second;
      continue;
    }
    const auto& type = o.type().tensor_type();
    auto* n = branch.add_node();
    const std::string value = "/" + name + "/empty/" + o.name();
    n->set_name(value + "/Constant");
    n->set_op_type("Constant");
    n->add_output(value);
    auto* at = n->add_attribute();
    at->set_name("value");
    at->set_type(onnx::AttributeProto::TENSOR);
    auto* t = at->mutable_t();
    t->set_data_type(type.elem_type());
    for (int d = 0; d < type.shape().dim_size(); ++d) {
      const auto& dim = type.shape().dim(d);
      t->add_dims(d == 0 ? 0 : dim.has_dim_value() ? dim.dim_value() : 1);
    }
    t->set_raw_data("");
    auto* vi = branch.add_output();
    *vi = o;
    vi->set_name(value);
  }
}

}  // namespace

onnx::ModelProto merge_decoders(const onnx::ModelProto& no_past, const onnx::ModelProto& with_past) {
  const auto& a = no_past.graph();
  const auto& b = with_past.graph();
  // The outputs of `b` must be those of `a` in the same order, some possibly missing (given empty by the branch).
  {
    int j = 0;
    for (int i = 0; i < a.output_size() && j < b.output_size(); ++i)
      if (a.output(i).name() == b.output(j).name()) ++j;
    if (j != b.output_size())
      throw RuntimeError("internal: merge_decoders: output '" + b.output(j).name() +
                         "' of the decoder with past is not an output of the decoder without past (in the same "
                         "order)");
  }
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
  fill_branch(*then_attr->mutable_g(), b, "with_past", outer_values, renames_b);
  add_empty_outputs(*then_attr->mutable_g(), b, a, "with_past");
  auto* else_attr = node->add_attribute();
  else_attr->set_name("else_branch");
  else_attr->set_type(onnx::AttributeProto::GRAPH);
  fill_branch(*else_attr->mutable_g(), a, "no_past", outer_values, {});
  return merged;
}

}  // namespace ortformers::exporters
