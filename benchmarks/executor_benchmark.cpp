// Cost per node per item of the native batch path: chains of PassThrough / Calculator nodes over
// vectors of int64 or float64 items (boxed Values) and over numpy-style columns.
//
//   ./build/tests/benchmarks/executor_benchmark --benchmark_min_time=0.2
//
// The counter ns_per_node_item is the figure docs/PERFORMANCE.md reports (target: <= 5 ns).
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "remotemedia/executor.h"
#include "remotemedia/graph.h"
#include "remotemedia/manifest.h"
#include "remotemedia/registry.h"

using namespace remotemedia;

namespace {

constexpr int64_t kItems = 1 << 16;

Graph make_chain(int nodes, const std::string& node_json) {
  std::string text = R"({"version": "v1", "nodes": [)";
  for (int i = 0; i < nodes; ++i) {
    if (i) text += ",";
    text += R"({"id": "n)" + std::to_string(i) + R"(", )" + node_json + "}";
  }
  text += "]}";
  Result<Manifest> m = parse_manifest(text);
  Result<Graph> g = Graph::compile(m.value(), Registry::global());
  if (!g.ok()) throw std::runtime_error(g.status().to_string());
  return std::move(g).value();
}

const char* kPassThrough = R"("node_type": "PassThroughNode")";
const char* kAddInt = R"("node_type": "CalculatorNode", "params": {"operation": "add", "operand": 1})";
const char* kMulFloat = R"("node_type": "CalculatorNode", "params": {"operation": "multiply", "operand": 1.0000001})";

std::vector<Value> int_items() {
  std::vector<Value> v;
  v.reserve(kItems);
  for (int64_t i = 0; i < kItems; ++i) v.push_back(Value::integer(i));
  return v;
}
std::vector<Value> float_items() {
  std::vector<Value> v;
  v.reserve(kItems);
  for (int64_t i = 0; i < kItems; ++i) v.push_back(Value::real(static_cast<double>(i) * 0.5));
  return v;
}

// Input preparation (copying the item vector) is excluded from the timing.
void run_boxed(benchmark::State& state, const char* node_json, std::vector<Value> (*items)()) {
  const int nodes = static_cast<int>(state.range(0));
  Graph g = make_chain(nodes, node_json);
  const std::vector<Value> input = items();
  for (auto _ : state) {
    state.PauseTiming();
    Batch b;
    b.items = input;
    state.ResumeTiming();
    Result<Batch> out = run_batch(g, std::move(b));
    benchmark::DoNotOptimize(out.value().items.data());
  }
  state.counters["ns_per_node_item"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * kItems * nodes,
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void run_column(benchmark::State& state, const char* node_json, DType dtype) {
  const int nodes = static_cast<int>(state.range(0));
  Graph g = make_chain(nodes, node_json);
  Ref<NDArray> column = NDArray::allocate(dtype, {kItems}, false, /*zeroed=*/true);
  for (auto _ : state) {
    Batch b;
    b.column = column;
    Result<Batch> out = run_batch(g, std::move(b));
    benchmark::DoNotOptimize(out.value().column.get());
  }
  state.counters["ns_per_node_item"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * kItems * nodes,
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void BM_PassThroughChain_Int64(benchmark::State& s) { run_boxed(s, kPassThrough, int_items); }
void BM_PassThroughChain_Float64(benchmark::State& s) { run_boxed(s, kPassThrough, float_items); }
void BM_CalculatorAddChain_Int64(benchmark::State& s) { run_boxed(s, kAddInt, int_items); }
void BM_CalculatorMulChain_Float64(benchmark::State& s) { run_boxed(s, kMulFloat, float_items); }
void BM_CalculatorAddChain_Int64Column(benchmark::State& s) { run_column(s, kAddInt, DType::kInt64); }
void BM_CalculatorMulChain_Float64Column(benchmark::State& s) { run_column(s, kMulFloat, DType::kFloat64); }

void BM_ParseAndCompileManifest(benchmark::State& state) {
  std::string text = R"({"version": "v1", "nodes": [)";
  for (int i = 0; i < 10; ++i) {
    text += std::string(i ? "," : "") + R"({"id": "n)" + std::to_string(i) + R"(", )" + kAddInt + "}";
  }
  text += "]}";
  for (auto _ : state) {
    Result<Manifest> m = parse_manifest(text);
    Result<Graph> g = Graph::compile(m.value(), Registry::global());
    benchmark::DoNotOptimize(g.ok());
  }
}

}  // namespace

BENCHMARK(BM_PassThroughChain_Int64)->Arg(3)->Arg(10);
BENCHMARK(BM_PassThroughChain_Float64)->Arg(3)->Arg(10);
BENCHMARK(BM_CalculatorAddChain_Int64)->Arg(3)->Arg(10);
BENCHMARK(BM_CalculatorMulChain_Float64)->Arg(3)->Arg(10);
BENCHMARK(BM_CalculatorAddChain_Int64Column)->Arg(3)->Arg(10);
BENCHMARK(BM_CalculatorMulChain_Float64Column)->Arg(3)->Arg(10);
BENCHMARK(BM_ParseAndCompileManifest);
BENCHMARK_MAIN();
