// The executor on the seed's pipelines (examples/manifests/seed_*.json), without Python: run_batch
// over the seed's inputs (the ints 1..n) as boxed Values (what a Python list becomes) and as an
// int64 column (what a numpy array becomes). This is the native part of `Pipeline.run`; the rest is
// conversion (conversion_benchmark) and the Python call itself.
//
//   ./build/tests/benchmarks/executor_benchmark --benchmark_min_time=0.3 --benchmark_repetitions=5
//       --benchmark_report_aggregates_only=true
//
// Each run makes fresh node instances (Graph::instantiate), as every run from Python does; copying
// the boxed input is not timed.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "benchmark_util.h"

using namespace remotemedia;

namespace {

struct SeedPipeline {
  const char* name;
  const char* manifest;
};

const SeedPipeline kSeed[] = {
    {"Simple", "seed_simple.json"},
    {"Medium", "seed_medium.json"},
    {"Complex", "seed_complex.json"},
    {"CalcHeavy", "seed_calc_heavy.json"},
};

void run_boxed(benchmark::State& state, const SeedPipeline& p) {
  const Graph g = bench::compile_or_throw(bench::read_example_manifest(p.manifest));
  const int64_t n = state.range(0);
  const std::vector<Value> input = bench::seed_items(n);
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
  bench::set_rates(state, n, static_cast<int64_t>(g.nodes().size()));
}

void run_column(benchmark::State& state, const SeedPipeline& p) {
  const Graph g = bench::compile_or_throw(bench::read_example_manifest(p.manifest));
  const int64_t n = state.range(0);
  std::vector<int64_t> values(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) values[static_cast<size_t>(i)] = i + 1;
  const Ref<NDArray> input = bench::column_of(values);
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
  bench::set_rates(state, n, static_cast<int64_t>(g.nodes().size()));
}

// What a run costs with no item at all: instantiating, opening and closing the nodes.
void run_empty(benchmark::State& state, const SeedPipeline& p) {
  const Graph g = bench::compile_or_throw(bench::read_example_manifest(p.manifest));
  for (auto _ : state) {
    Result<Batch> out = run_batch(g, Batch{});
    benchmark::DoNotOptimize(out.ok());
  }
}

}  // namespace

int main(int argc, char** argv) {
  for (const SeedPipeline& p : kSeed) {
    const std::string name = std::string("seed/") + p.name;
    benchmark::RegisterBenchmark((name + "/boxed").c_str(), run_boxed, p)
        ->Arg(100)->Arg(1000)->Arg(1 << 16)->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark((name + "/column").c_str(), run_column, p)
        ->Arg(100)->Arg(1000)->Arg(1 << 16)->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark((name + "/no_items").c_str(), run_empty, p)->Unit(benchmark::kNanosecond);
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
