// Cost per node per item of every built-in node type, on each path the runtime has:
//
//   batch   a chain of 8 nodes of the type (1 for a node that changes the number or shape of its
//           items, such as Buffer) through run_batch over 65,536 boxed Values (a Python list
//           becomes this): the path of `run` for a chain. Input copying is not timed.
//   column  the same chain over a 1-D numpy-style column (a numpy array input), where the node
//           has a column kernel for the dtype; otherwise the row says "boxed" and the runtime
//           boxes the elements as it would in a run.
//   process one node instance, process() called once per item through an Emitter: the path of
//           graphs that are not a chain (and of sessions).
//
//   ./build/tests/benchmarks/node_benchmark --benchmark_min_time=0.3 --benchmark_repetitions=5
//       --benchmark_report_aggregates_only=true
//
// ns_per_node_item = time / (input items x nodes in the chain) is the figure docs/PERFORMANCE.md
// reports (target: 5 ns or less on the batch path). A new node type: add its cases to kCases. A
// registered type without a case gets one with default parameters over int64 items (a chain of 1)
// when it has no required parameter; otherwise the program says which type it cannot benchmark.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <set>
#include <string>
#include <vector>

#include "benchmark_util.h"

using namespace remotemedia;
using remotemedia::bench::chain_manifest;
using remotemedia::bench::compile_or_throw;
using remotemedia::bench::set_rates;

namespace {

constexpr int64_t kItems = 1 << 16;

enum class Items { kInt64, kFloat64 };

struct NodeCase {
  std::string label;        // benchmark name: <label>/<items>/<path>
  std::string node_type;    // as registered
  std::string params_json;  // the manifest's params
  Items items;
  int chain = 8;  // nodes in the chain of the batch and column paths
};

// Items and operands keep every value in range through a chain of 8 (no overflow, no subnormal
// floats), so the timing is that of the ordinary path: ints 0..999 (power: -1..1, as 2 ** 256
// overflows), floats in [0.5, 1.5).
const std::vector<NodeCase> kCases = {
    {"PassThrough", "PassThroughNode", "{}", Items::kInt64},
    {"PassThrough", "PassThroughNode", "{}", Items::kFloat64},
    {"Calculator.add", "CalculatorNode", R"({"operation": "add", "operand": 3})", Items::kInt64},
    {"Calculator.add", "CalculatorNode", R"({"operation": "add", "operand": 1.5})", Items::kFloat64},
    {"Calculator.subtract", "CalculatorNode", R"({"operation": "subtract", "operand": 3})", Items::kInt64},
    {"Calculator.subtract", "CalculatorNode", R"({"operation": "subtract", "operand": 1.5})", Items::kFloat64},
    {"Calculator.multiply", "CalculatorNode", R"({"operation": "multiply", "operand": 3})", Items::kInt64},
    {"Calculator.multiply", "CalculatorNode", R"({"operation": "multiply", "operand": 1.5})", Items::kFloat64},
    {"Calculator.divide", "CalculatorNode", R"({"operation": "divide", "operand": 3})", Items::kInt64},
    {"Calculator.divide", "CalculatorNode", R"({"operation": "divide", "operand": 1.5})", Items::kFloat64},
    {"Calculator.modulo", "CalculatorNode", R"({"operation": "modulo", "operand": 7})", Items::kInt64},
    {"Calculator.modulo", "CalculatorNode", R"({"operation": "modulo", "operand": 0.7})", Items::kFloat64},
    {"Calculator.power", "CalculatorNode", R"({"operation": "power", "operand": 2})", Items::kInt64},
    {"Calculator.power", "CalculatorNode", R"({"operation": "power", "operand": 2})", Items::kFloat64},
    {"Buffer.64", "BufferNode", R"({"buffer_size": 64})", Items::kInt64, 1},
    {"Filter.even", "FilterNode", R"({"condition": "item % 2 == 0"})", Items::kInt64, 1},
    {"Map.2x_plus_1", "MapNode", R"({"expression": "item * 2 + 1"})", Items::kInt64},
    {"Router.even_odd", "RouterNode", R"({"routes": [{"when": "item % 2 == 0", "to": "even"}], "default": "odd"})",
     Items::kInt64, 1},
};

bool is_power(const NodeCase& c) { return c.params_json.find("\"power\"") != std::string::npos; }

std::vector<int64_t> int_values(const NodeCase& c) {
  std::vector<int64_t> v(kItems);
  for (int64_t i = 0; i < kItems; ++i) v[i] = is_power(c) ? i % 3 - 1 : i % 1000;
  return v;
}

std::vector<double> float_values() {
  std::vector<double> v(kItems);
  for (int64_t i = 0; i < kItems; ++i) v[i] = 0.5 + static_cast<double>(i % 1000) / 1000.0;
  return v;
}

std::vector<Value> boxed(const NodeCase& c) {
  std::vector<Value> out;
  out.reserve(kItems);
  if (c.items == Items::kInt64) {
    for (int64_t x : int_values(c)) out.push_back(Value::integer(x));
  } else {
    for (double x : float_values()) out.push_back(Value::real(x));
  }
  return out;
}

Ref<NDArray> column(const NodeCase& c) {
  return c.items == Items::kInt64 ? bench::column_of(int_values(c)) : bench::column_of(float_values());
}

const char* items_name(Items items) { return items == Items::kInt64 ? "int64" : "float64"; }

void run_batch_path(benchmark::State& state, const NodeCase& c) {
  const Graph g = compile_or_throw(chain_manifest(c.chain, c.node_type, c.params_json));
  const std::vector<Value> input = boxed(c);
  for (auto _ : state) {
    state.PauseTiming();
    Batch b;
    b.items = input;
    state.ResumeTiming();
    Result<Batch> out = run_batch(g, std::move(b));
    if (!out.ok()) {
      state.SkipWithError(out.status().to_string().c_str());
      break;
    }
    benchmark::DoNotOptimize(out.value().items.data());
  }
  set_rates(state, kItems, c.chain);
}

void run_column_path(benchmark::State& state, const NodeCase& c) {
  const Graph g = compile_or_throw(chain_manifest(c.chain, c.node_type, c.params_json));
  const Ref<NDArray> input = column(c);
  {
    Batch probe;
    probe.column = input;
    Result<Batch> out = run_batch(g, std::move(probe));
    if (!out.ok() || !out.value().is_column()) state.SetLabel("boxed: no column kernel");
  }
  for (auto _ : state) {
    Batch b;
    b.column = input;
    Result<Batch> out = run_batch(g, std::move(b));
    if (!out.ok()) {
      state.SkipWithError(out.status().to_string().c_str());
      break;
    }
    benchmark::DoNotOptimize(out.value().column.get());
  }
  set_rates(state, kItems, c.chain);
}

void run_process_path(benchmark::State& state, const NodeCase& c) {
  const Graph g = compile_or_throw(chain_manifest(1, c.node_type, c.params_json));
  Result<std::vector<std::unique_ptr<Node>>> nodes = g.instantiate();
  if (!nodes.ok() || !nodes.value()[0]->open().ok()) {
    state.SkipWithError("cannot make the node");
    return;
  }
  Node& node = *nodes.value()[0];
  const std::vector<Value> input = boxed(c);
  std::vector<Value> out;
  out.reserve(input.size());
  for (auto _ : state) {
    out.clear();
    VectorEmitter emitter(out);
    for (const Value& item : input) {
      Status s = node.process(item, emitter);
      if (!s.ok()) {
        state.SkipWithError(s.to_string().c_str());
        break;
      }
    }
    benchmark::DoNotOptimize(out.data());
  }
  (void)node.close();
  set_rates(state, kItems, 1);
}

// Cases for registered types that kCases does not cover: default parameters over int64 items.
std::vector<NodeCase> cases_for_every_registered_type() {
  std::vector<NodeCase> cases = kCases;
  std::set<std::string> covered;
  for (const NodeCase& c : kCases) covered.insert(c.node_type);
  for (const NodeTypeInfo* info : Registry::global().types()) {
    if (covered.count(info->name)) continue;
    bool needs_params = false;
    for (const ParamSpec& p : info->params) needs_params |= p.required;
    if (needs_params) {
      std::fprintf(stderr, "node_benchmark: no case for node type %s (it has required parameters; "
                           "add one to kCases)\n", info->name.c_str());
      continue;
    }
    cases.push_back({info->name, info->name, "{}", Items::kInt64, 1});
  }
  return cases;
}

}  // namespace

int main(int argc, char** argv) {
  for (const NodeCase& c : cases_for_every_registered_type()) {
    try {
      (void)compile_or_throw(chain_manifest(c.chain, c.node_type, c.params_json));
    } catch (const std::exception& e) {  // a case that no longer matches its node type's parameters
      std::fprintf(stderr, "node_benchmark: case %s skipped: %s\n", c.label.c_str(), e.what());
      continue;
    }
    const std::string base = c.label + "/" + items_name(c.items) + "/";
    benchmark::RegisterBenchmark((base + "batch").c_str(), run_batch_path, c)->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark((base + "column").c_str(), run_column_path, c)->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark((base + "process").c_str(), run_process_path, c)->Unit(benchmark::kMicrosecond);
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
