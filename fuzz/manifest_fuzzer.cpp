// Manifests (src/core/manifest.cpp, src/core/graph.cpp): any text is a manifest or an error of the
// manifest classes with a JSON path; a manifest compiles against the built-in registry or fails
// the same way; a compiled graph keeps its invariants (a topological order, sources, ports); its
// nodes are made, and the graph runs over a few small inputs (boxed items and a column), each run
// a result or an error that names its node.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_input.h"
#include "remotemedia/audio.h"
#include "remotemedia/executor.h"
#include "remotemedia/graph.h"
#include "remotemedia/manifest.h"
#include "remotemedia/registry.h"

using namespace remotemedia;

namespace {

bool path_ok(const Status& s) { return s.path().rfind("$", 0) == 0; }

void check_graph(const Manifest& m, const Graph& g) {
  const std::vector<GraphNode>& nodes = g.nodes();
  if (nodes.size() != m.nodes.size()) __builtin_trap();
  const std::vector<size_t>& order = g.topological_order();
  if (order.size() != nodes.size()) __builtin_trap();
  std::vector<size_t> position(nodes.size(), SIZE_MAX);
  for (size_t k = 0; k < order.size(); ++k) {
    if (order[k] >= nodes.size() || position[order[k]] != SIZE_MAX) __builtin_trap();
    position[order[k]] = k;
  }
  std::vector<size_t> in_degree(nodes.size(), 0);
  size_t edges = 0;
  for (size_t i = 0; i < nodes.size(); ++i) {
    const GraphNode& n = nodes[i];
    if (n.id != m.nodes[i].id || n.factory == nullptr) __builtin_trap();
    if (n.port_successors.size() != n.output_ports.size() || n.output_ports.empty()) __builtin_trap();
    size_t on_ports = 0;
    for (const std::vector<size_t>& port : n.port_successors) {
      on_ports += port.size();
      for (size_t s : port) {
        if (std::find(n.successors.begin(), n.successors.end(), s) == n.successors.end()) __builtin_trap();
      }
    }
    if (on_ports != n.successors.size()) __builtin_trap();
    for (size_t s : n.successors) {
      if (s >= nodes.size() || position[i] >= position[s]) __builtin_trap();
      ++in_degree[s];
      ++edges;
    }
  }
  std::vector<size_t> sources;
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (nodes[i].in_degree != in_degree[i]) __builtin_trap();
    if (in_degree[i] == 0) sources.push_back(i);
  }
  std::vector<size_t> given = g.sources();
  std::sort(given.begin(), given.end());
  if (given != sources) __builtin_trap();
  if (!m.connections) {  // no connections key: a chain in the order listed
    if (edges + (nodes.empty() ? 0 : 1) != nodes.size()) __builtin_trap();
    for (size_t i = 0; i + 1 < nodes.size(); ++i) {
      if (nodes[i].successors != std::vector<size_t>{i + 1}) __builtin_trap();
    }
  }
}

// What the harness does not run: nodes that read or write files at paths the manifest names.
bool runnable(const Graph& g) {
  for (const GraphNode& n : g.nodes()) {
    if (n.type_name == "AudioFileSourceNode" || n.type_name == "AudioFileSinkNode") return false;
  }
  return true;
}

void check_run(const Result<std::vector<Value>>& r) {
  if (r.ok()) return;
  const Status& s = r.status();
  if (s.code() == StatusCode::kInternal || !s.has_node()) __builtin_trap();
  (void)s.to_string();
}

Value small_audio() {
  Ref<NDArray> a = NDArray::allocate(DType::kFloat32, {32}, false, /*zeroed=*/true);
  for (int i = 0; i < 32; ++i) a->mutable_data_as<float>()[i] = static_cast<float>(i % 7) / 8.0f - 0.4f;
  return Value::audio(AudioBuffer::make(std::move(a), 16000).value());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  Result<Manifest> m = parse_manifest(text);
  if (!m.ok()) {
    if (m.status().code() != StatusCode::kManifestError || !path_ok(m.status())) __builtin_trap();
    (void)m.status().to_string();
    return 0;
  }
  Result<Graph> g = Graph::compile(*m, Registry::global());
  if (!g.ok()) {
    const StatusCode c = g.status().code();
    if (c != StatusCode::kManifestError && c != StatusCode::kUnknownNodeType &&
        c != StatusCode::kInvalidParameter && c != StatusCode::kGraphError) {
      __builtin_trap();
    }
    if (!path_ok(g.status())) __builtin_trap();
    return 0;
  }
  check_graph(*m, *g);
  if (!runnable(*g)) return 0;
  Result<std::vector<std::unique_ptr<Node>>> instances = g->instantiate();
  if (!instances.ok()) return 0;
  if (instances->size() != g->nodes().size()) __builtin_trap();

  check_run(run(*g, {Value::integer(3), Value::integer(-7), Value::real(2.5), Value::boolean(true),
                     Value::integer(0), Value::integer(INT64_MAX)}));
  check_run(run(*g, {Value::string("a"), Value::null(), Value::list({Value::integer(1), Value::real(0.5)}),
                     Value::map({{"x", Value::integer(2)}}), small_audio()}));
  Ref<NDArray> column = NDArray::allocate(DType::kInt64, {9});
  for (int64_t i = 0; i < 9; ++i) column->mutable_data_as<int64_t>()[i] = i * 5 - 20;
  Batch batch;
  batch.column = column;
  Result<Batch> b = run_batch(*g, std::move(batch));
  if (!b.ok() && (b.status().code() == StatusCode::kInternal || !b.status().has_node())) __builtin_trap();
  return 0;
}
