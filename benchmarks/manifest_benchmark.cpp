// Manifests: parsing with the structural checks (parse_manifest, rules 1-17 of docs/MANIFEST.md),
// graph compilation with the registry checks (Graph::compile: node types, parameters, connections,
// cycles, topological order), both together (what every CompiledPipeline and `remotemedia-runtime
// run` does once), node instantiation (what every run does), and the rejection of a bad manifest.
//
//   ./build/tests/benchmarks/manifest_benchmark --benchmark_min_time=0.3 --benchmark_repetitions=5
//       --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "benchmark_util.h"

using namespace remotemedia;

namespace {

const char* kCalculator = R"({"operation": "add", "operand": 1})";

struct Input {
  std::string name;
  std::string text;
};

std::vector<Input> inputs() {
  std::vector<Input> in = {
      {"seed_simple", bench::read_example_manifest("seed_simple.json")},
      {"seed_complex", bench::read_example_manifest("seed_complex.json")},
  };
  for (int n : {10, 100, 1000}) {
    in.push_back({"chain" + std::to_string(n), bench::chain_manifest(n, "CalculatorNode", kCalculator)});
  }
  return in;
}

void set_per_node(benchmark::State& state, size_t nodes) {
  state.counters["ns_per_node"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * static_cast<double>(nodes),
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void parse(benchmark::State& state, const std::string& text) {
  size_t nodes = 0;
  for (auto _ : state) {
    Result<Manifest> m = parse_manifest(text);
    nodes = m.value().nodes.size();
    benchmark::DoNotOptimize(m.ok());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
  set_per_node(state, nodes);
}

void compile(benchmark::State& state, const std::string& text) {
  const Manifest m = parse_manifest(text).value();
  for (auto _ : state) {
    Result<Graph> g = Graph::compile(m, Registry::global());
    benchmark::DoNotOptimize(g.ok());
  }
  set_per_node(state, m.nodes.size());
}

void parse_and_compile(benchmark::State& state, const std::string& text) {
  size_t nodes = 0;
  for (auto _ : state) {
    Result<Manifest> m = parse_manifest(text);
    Result<Graph> g = Graph::compile(m.value(), Registry::global());
    nodes = g.value().nodes().size();
    benchmark::DoNotOptimize(g.ok());
  }
  set_per_node(state, nodes);
}

void instantiate(benchmark::State& state, const std::string& text) {
  const Graph g = bench::compile_or_throw(text);
  for (auto _ : state) {
    auto nodes = g.instantiate();
    benchmark::DoNotOptimize(nodes.value().data());
  }
  set_per_node(state, g.nodes().size());
}

// The error path: a 100-node chain whose last connection closes a cycle (found by the DFS over the
// whole graph), and an unknown node type at the end (every node checked before it).
void reject(benchmark::State& state, const std::string& text) {
  const Manifest m = parse_manifest(text).value();
  for (auto _ : state) {
    Result<Graph> g = Graph::compile(m, Registry::global());
    if (g.ok()) {
      state.SkipWithError("the bad manifest was accepted");
      break;
    }
    benchmark::DoNotOptimize(g.status().code());
  }
}

std::string with_cycle() {
  std::string text = bench::chain_manifest(100, "CalculatorNode", kCalculator);
  text.insert(text.size() - 2, R"(, {"from": "n99", "to": "n0"})");
  return text;
}

std::string with_unknown_type() {
  std::string text = bench::chain_manifest(100, "CalculatorNode", kCalculator);
  const std::string last = R"("id": "n99", "node_type": "CalculatorNode")";
  text.replace(text.find(last), last.size(), R"("id": "n99", "node_type": "NoSuchNode")");
  return text;
}

}  // namespace

int main(int argc, char** argv) {
  for (const Input& in : inputs()) {
    benchmark::RegisterBenchmark(("parse/" + in.name).c_str(), parse, in.text)->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(("compile/" + in.name).c_str(), compile, in.text)->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(("parse_and_compile/" + in.name).c_str(), parse_and_compile, in.text)
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(("instantiate/" + in.name).c_str(), instantiate, in.text)
        ->Unit(benchmark::kMicrosecond);
  }
  benchmark::RegisterBenchmark("reject/cycle_chain100", reject, with_cycle())->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("reject/unknown_type_chain100", reject, with_unknown_type())
      ->Unit(benchmark::kMicrosecond);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
