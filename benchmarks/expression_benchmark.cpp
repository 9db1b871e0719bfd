// Cost per item of the expression language (include/remotemedia/expression.h) on each of its
// paths, over 65,536 int64 or float64 items:
//
//   filter_batch / evaluate_batch / truth_batch   boxed Values (FilterNode, MapNode, RouterNode on
//                                                 the batch path): the typed, chunked program
//   filter_column / evaluate_column               a 1-D array (the column path; no boxing)
//   evaluate                                      one item at a time through the evaluator (the
//                                                 reference, and the path of non-chain graphs)
//
//   ./build/bench/benchmarks/expression_benchmark --benchmark_min_time=0.3
//
// ns_per_item is the figure docs/PERFORMANCE.md reports (target for Filter and Map: 5 ns or less on
// the batch path). The batch forms consume their input, so each iteration first copies the 65,536
// Values back; copy_values is that copy alone, to subtract.
#include <benchmark/benchmark.h>

#include <cstring>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "remotemedia/expression.h"

using namespace remotemedia;

namespace {

constexpr int64_t kItems = 1 << 16;

const char* const kExpressions[] = {"item > 3", "item * 2 + 1", "item % 3 == 0 and item > 10"};

// Items uniform in [-1000, 1000]: about half pass each condition, so branches cannot be learnt.
std::vector<Value> values(bool floats) {
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<int64_t> dist(-1000, 1000);
  std::vector<Value> v;
  v.reserve(kItems);
  for (int64_t i = 0; i < kItems; ++i) {
    const int64_t x = dist(rng);
    v.push_back(floats ? Value::real(static_cast<double>(x) + 0.25) : Value::integer(x));
  }
  return v;
}

Ref<NDArray> column(bool floats) {
  const std::vector<Value> v = values(floats);
  Ref<NDArray> a = NDArray::allocate(floats ? DType::kFloat64 : DType::kInt64, {kItems});
  for (int64_t i = 0; i < kItems; ++i) {
    if (floats) a->mutable_data_as<double>()[i] = v[static_cast<size_t>(i)].as_float();
    else a->mutable_data_as<int64_t>()[i] = v[static_cast<size_t>(i)].as_int();
  }
  return a;
}

Expression parse_or_throw(const char* text) {
  Result<Expression> e = Expression::parse(text);
  if (!e.ok()) throw std::runtime_error(e.status().to_string());
  return *e;
}

void set_rates(benchmark::State& state) {
  state.SetItemsProcessed(state.iterations() * kItems);
  state.counters["ns_per_item"] = benchmark::Counter(
      static_cast<double>(state.iterations() * kItems),
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void check(const Status& s) {
  if (!s.ok()) throw std::runtime_error(s.to_string());
}

enum class Path { kFilterBatch, kEvaluateBatch, kTruthBatch, kFilterColumn, kEvaluateColumn, kEvaluate };

void run(benchmark::State& state, const char* text, bool floats, Path path) {
  const Expression e = parse_or_throw(text);
  const std::vector<Value> source = values(floats);
  const Ref<NDArray> col = column(floats);
  std::vector<Value> items;
  items.reserve(kItems);
  std::vector<uint8_t> truth;
  size_t failed_at = 0;
  for (auto _ : state) {
    switch (path) {
      case Path::kFilterBatch:
        items = source;
        check(e.filter_batch(items, &failed_at));
        benchmark::DoNotOptimize(items.data());
        break;
      case Path::kEvaluateBatch:
        items = source;
        check(e.evaluate_batch(items, &failed_at));
        benchmark::DoNotOptimize(items.data());
        break;
      case Path::kTruthBatch:
        check(e.truth_batch(source, &truth, &failed_at));
        benchmark::DoNotOptimize(truth.data());
        break;
      case Path::kFilterColumn:
      case Path::kEvaluateColumn: {
        Ref<NDArray> out;
        Status s = path == Path::kFilterColumn ? e.filter_column(*col, &out, &failed_at)
                                               : e.evaluate_column(*col, &out, &failed_at);
        if (s.code() == StatusCode::kNotImplemented) {
          state.SkipWithError("no column result for this expression (its values are Python bools)");
          return;
        }
        check(s);
        benchmark::DoNotOptimize(out.get());
        break;
      }
      case Path::kEvaluate:
        for (const Value& v : source) {
          Value out;
          check(e.evaluate(v, &out));
          benchmark::DoNotOptimize(out);
        }
        break;
    }
  }
  set_rates(state);
}

void copy_values(benchmark::State& state, bool floats) {
  const std::vector<Value> source = values(floats);
  std::vector<Value> items;
  items.reserve(kItems);
  for (auto _ : state) {
    items = source;
    benchmark::DoNotOptimize(items.data());
  }
  set_rates(state);
}

const struct {
  const char* name;
  Path path;
} kPaths[] = {
    {"filter_batch", Path::kFilterBatch},     {"evaluate_batch", Path::kEvaluateBatch},
    {"truth_batch", Path::kTruthBatch},       {"filter_column", Path::kFilterColumn},
    {"evaluate_column", Path::kEvaluateColumn}, {"evaluate", Path::kEvaluate},
};

const int kRegistered = [] {
  for (bool floats : {false, true}) {
    const std::string type = floats ? "float64" : "int64";
    benchmark::RegisterBenchmark(("copy_values/" + type).c_str(), copy_values, floats);
    for (const char* text : kExpressions) {
      for (const auto& p : kPaths) {
        benchmark::RegisterBenchmark((std::string(p.name) + "/" + type + "/" + text).c_str(), run, text,
                                     floats, p.path);
      }
    }
  }
  return 0;
}();

}  // namespace

BENCHMARK_MAIN();
