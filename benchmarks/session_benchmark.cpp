// Streaming sessions (include/remotemedia/session.h):
//   - per-item latency through a 5-node native session, push to output callback (p50 / p99 in
//     ns as counters; targets: p50 <= 5 us, p99 <= 50 us), on the pushing thread and through the
//     worker pool;
//   - throughput of CPU-heavy sessions, one against two on two threads (target: two give at least
//     1.7x the items per second of one).
//
//   ./build/tests/benchmarks/session_benchmark --benchmark_min_time=1
#include <benchmark/benchmark.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "benchmark_util.h"
#include "remotemedia/histogram.h"
#include "remotemedia/session.h"

using namespace remotemedia;

namespace {

using Clock = std::chrono::steady_clock;

std::shared_ptr<const Graph> five_nodes() {
  static auto g = std::make_shared<const Graph>(bench::compile_or_throw(R"({"version": "v1", "nodes": [
      {"id": "a", "node_type": "PassThrough"},
      {"id": "b", "node_type": "Calculator", "params": {"operation": "add", "operand": 1}},
      {"id": "c", "node_type": "Filter", "params": {"condition": "item >= 0"}},
      {"id": "d", "node_type": "Map", "params": {"expression": "item * 2"}},
      {"id": "e", "node_type": "PassThrough"}]})"));
  return g;
}

// CPU-heavy per item: 20 float power and modulo operations.
std::shared_ptr<const Graph> heavy() {
  static auto g = std::make_shared<const Graph>(bench::compile_or_throw(bench::chain_manifest(
      20, "Calculator", R"({"operation": "power", "operand": 1.0000001})")));
  return g;
}

void latency(benchmark::State& state, bool pooled) {
  Histogram h;
  std::atomic<int64_t> pushed_at{0};
  std::atomic<uint64_t> received{0};
  SessionOptions opts;
  opts.capacity = 1024;
  opts.process_on_push = !pooled;
  opts.on_output = [&](Value) {
    h.record(static_cast<uint64_t>(Clock::now().time_since_epoch().count() - pushed_at.load()));
    received.fetch_add(1, std::memory_order_release);
  };
  auto s = Session::open(five_nodes(), opts).value();
  int64_t i = 0;
  for (auto _ : state) {
    const uint64_t before = received.load(std::memory_order_acquire);
    pushed_at.store(Clock::now().time_since_epoch().count());
    (void)s->try_push(Value::integer(i++));
    while (received.load(std::memory_order_acquire) == before) {
    }  // the output has come back: one item in flight at a time
  }
  s->end();
  s->wait_closed();
  state.counters["p50_ns"] = static_cast<double>(h.quantile(0.50));
  state.counters["p99_ns"] = static_cast<double>(h.quantile(0.99));
}

void BM_SessionLatency5Nodes_PushingThread(benchmark::State& state) { latency(state, false); }
void BM_SessionLatency5Nodes_WorkerPool(benchmark::State& state) { latency(state, true); }

// `sessions` sessions, each pushed by its own thread, processing on that thread.
void BM_SessionThroughputCpuHeavy(benchmark::State& state) {
  const int sessions = static_cast<int>(state.range(0));
  constexpr int64_t kItems = 20000;
  for (auto _ : state) {
    std::vector<std::thread> threads;
    for (int k = 0; k < sessions; ++k) {
      threads.emplace_back([] {
        SessionOptions opts;
        opts.capacity = 256;
        opts.on_output = [](Value v) { benchmark::DoNotOptimize(v); };
        auto s = Session::open(heavy(), opts).value();
        for (int64_t i = 0; i < kItems; ++i) (void)s->push(Value::real(1.5 + static_cast<double>(i % 7)));
        s->end();
        s->wait_closed();
      });
    }
    for (auto& t : threads) t.join();
  }
  state.counters["items_per_s"] = benchmark::Counter(static_cast<double>(state.iterations()) * kItems * sessions,
                                                     benchmark::Counter::kIsRate);
}

}  // namespace

BENCHMARK(BM_SessionLatency5Nodes_PushingThread);
BENCHMARK(BM_SessionLatency5Nodes_WorkerPool);
BENCHMARK(BM_SessionThroughputCpuHeavy)->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK_MAIN();
