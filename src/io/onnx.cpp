// The ONNX writer (onnx_writer.hpp): io::OnnxGraph to onnx::ModelProto, serialised and written
// atomically. The only translation unit that includes protobuf's headers.
#include "onnx_writer.hpp"

#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>

#include <onnx/onnx_pb.h>

#include "typegrad/io/checkpoint_file.hpp"
#include "typegrad/util/text.hpp"

namespace typegrad::io {

namespace {

// IR version 7 (ONNX 1.8) is the oldest that goes with opset 13: the file loads in the widest
// range of runtimes; nothing typegrad writes needs a later one.
constexpr std::int64_t ir_version = 7;

// [batch, dims...] of element type elem as a ValueInfo's type.
void set_tensor_type(onnx::ValueInfoProto& v, const char* name, int elem, const std::vector<std::int64_t>& dims) {
    v.set_name(name);
    auto* t = v.mutable_type()->mutable_tensor_type();
    t->set_elem_type(elem);
    auto* shape = t->mutable_shape();
    shape->add_dim()->set_dim_param(onnx_batch);
    for (const std::int64_t d : dims) shape->add_dim()->set_dim_value(d);
}

void add_initializer(onnx::GraphProto& graph, const NpyArray& a) {
    auto* t = graph.add_initializer();
    t->set_name(a.name);
    for (const std::size_t d : a.shape) t->add_dims(static_cast<std::int64_t>(d));
    if (a.dtype == "<f4") t->set_data_type(onnx::TensorProto::FLOAT);
    else if (a.dtype == "<f8") t->set_data_type(onnx::TensorProto::DOUBLE);
    else if (a.dtype == "<i8") t->set_data_type(onnx::TensorProto::INT64);  // a shape, slice bounds
    else throw std::invalid_argument(cat("write_onnx: initializer ", a.name, " is neither float32, float64 nor int64"));
    // raw_data is little-endian, as NpyArray's bytes (x86-64).
    t->set_raw_data(a.data.data(), a.data.size());
}

void add_node(onnx::GraphProto& graph, const OnnxNode& n) {
    auto* node = graph.add_node();
    node->set_op_type(n.op_type);
    node->set_name(n.name);
    for (const std::string& in : n.inputs) node->add_input(in);
    node->add_output(n.output);
    for (const OnnxAttribute& a : n.attributes) {
        auto* attr = node->add_attribute();
        attr->set_name(a.name);
        if (a.real) {
            attr->set_type(onnx::AttributeProto::FLOAT);
            attr->set_f(*a.real);
        } else if (a.list) {
            attr->set_type(onnx::AttributeProto::INTS);
            for (const std::int64_t v : a.ints) attr->add_ints(v);
        } else {
            if (a.ints.size() != 1) throw std::invalid_argument(cat("write_onnx: attribute ", a.name, " must hold one integer"));
            attr->set_type(onnx::AttributeProto::INT);
            attr->set_i(a.ints[0]);
        }
    }
}

}  // namespace

void write_onnx(const std::filesystem::path& file, const OnnxGraph& g, const std::string& producer_version) {
    onnx::ModelProto model;
    model.set_ir_version(ir_version);
    model.set_producer_name("typegrad");
    model.set_producer_version(producer_version);
    auto* opset = model.add_opset_import();
    opset->set_domain("");
    opset->set_version(onnx_opset);

    auto* graph = model.mutable_graph();
    graph->set_name(g.name);
    const int elem = g.double_precision ? onnx::TensorProto::DOUBLE : onnx::TensorProto::FLOAT;
    set_tensor_type(*graph->add_input(), onnx_input, elem, g.input_shape);
    set_tensor_type(*graph->add_output(), onnx_output, elem, g.output_shape);
    for (const NpyArray& a : g.initializers) add_initializer(*graph, a);
    for (const OnnxNode& n : g.nodes) add_node(*graph, n);

    std::string bytes;
    if (!model.SerializeToString(&bytes)) throw std::invalid_argument("write_onnx: protobuf could not serialise the model");
    write_file_atomically(file, std::span<const unsigned char>(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size()));
}

}  // namespace typegrad::io
