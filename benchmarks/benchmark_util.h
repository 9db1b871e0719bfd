// Helpers shared by the micro-benchmarks: manifests built in code or read from
// examples/manifests, compiled graphs, and the items the benchmarks run over.
#pragma once

#include <benchmark/benchmark.h>

#include <cstdint>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "remotemedia/executor.h"
#include "remotemedia/graph.h"
#include "remotemedia/manifest.h"
#include "remotemedia/registry.h"

namespace remotemedia::bench {

// A chain manifest of `count` nodes, each `{"id": "n<i>", "node_type": <type>, "params": <params>}`,
// with explicit connections (what Pipeline.serialize writes).
inline std::string chain_manifest(int count, const std::string& node_type, const std::string& params_json) {
  std::string text = R"({"version": "v1", "metadata": {"name": "bench"}, "nodes": [)";
  for (int i = 0; i < count; ++i) {
    if (i) text += ", ";
    text += R"({"id": "n)" + std::to_string(i) + R"(", "node_type": ")" + node_type + R"(", "params": )" +
            params_json + "}";
  }
  text += R"(], "connections": [)";
  for (int i = 0; i + 1 < count; ++i) {
    if (i) text += ", ";
    text += R"({"from": "n)" + std::to_string(i) + R"(", "to": "n)" + std::to_string(i + 1) + R"("})";
  }
  return text + "]}";
}

inline Graph compile_or_throw(const std::string& manifest_json) {
  Result<Manifest> m = parse_manifest(manifest_json);
  if (!m.ok()) throw std::runtime_error(m.status().to_string());
  Result<Graph> g = Graph::compile(m.value(), Registry::global());
  if (!g.ok()) throw std::runtime_error(g.status().to_string());
  return std::move(g).value();
}

#ifdef RM_SOURCE_DIR
// examples/manifests/<name> from the source tree.
inline std::string read_example_manifest(const std::string& name) {
  const std::string path = std::string(RM_SOURCE_DIR) + "/examples/manifests/" + name;
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}
#endif

// The seed's inputs: the ints 1..n.
inline std::vector<Value> seed_items(int64_t n) {
  std::vector<Value> v;
  v.reserve(static_cast<size_t>(n));
  for (int64_t i = 1; i <= n; ++i) v.push_back(Value::integer(i));
  return v;
}

template <typename T>
Ref<NDArray> column_of(const std::vector<T>& values) {
  Ref<NDArray> a = NDArray::allocate(DTypeOf<T>::value, {static_cast<int64_t>(values.size())});
  T* out = a->template mutable_data_as<T>();
  for (size_t i = 0; i < values.size(); ++i) out[i] = values[i];
  return a;
}

// Time per (node x item) and items per second, from the iterations run so far.
inline void set_rates(benchmark::State& state, int64_t items, int64_t nodes) {
  const double work = static_cast<double>(state.iterations()) * static_cast<double>(items);
  state.counters["ns_per_node_item"] =
      benchmark::Counter(work * static_cast<double>(nodes), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["items_per_s"] = benchmark::Counter(work, benchmark::Counter::kIsRate);
}

}  // namespace remotemedia::bench
