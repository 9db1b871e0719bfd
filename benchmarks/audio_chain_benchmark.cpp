// The speech front end in C++ alone (issue 7's speed target: one hour of 48 kHz mono audio,
// streamed as 20 ms chunks through resample to 16 kHz, gain, chunker and EnergyVAD, in at most 2 s
// on one core), and each of those nodes by itself on the same chunks (ns per input sample).
// The chunks are views of one synthetic signal; a session processes them on the pushing thread.
//
//   ./build/tests/benchmarks/audio_chain_benchmark [--benchmark_filter=Chain]
// The side-by-side comparison with numpy + soxr is python -m remotemedia.benchmarks.audio_chain.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "benchmark_util.h"
#include "remotemedia/audio.h"
#include "remotemedia/session.h"

using namespace remotemedia;

namespace {

constexpr int kRate = 48000;
constexpr int kChunk = 960;  // 20 ms

// Speech-like: noise bursts of 0.4-3 s at -26 to -12 dBFS between 0.2-1.5 s pauses at -70 dBFS.
Ref<NDArray> make_signal(double seconds) {
  const int64_t n = static_cast<int64_t>(seconds * kRate);
  Ref<NDArray> a = NDArray::allocate(DType::kFloat32, {n});
  float* x = a->mutable_data_as<float>();
  uint64_t state = 0x9E3779B97F4A7C15ull;
  auto uniform = [&] {  // xorshift64*, in [0, 1)
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    return static_cast<double>((state * 0x2545F4914F6CDD1Dull) >> 11) / 9007199254740992.0;
  };
  int64_t pos = 0;
  bool speaking = false;
  while (pos < n) {
    const double dur = speaking ? 0.4 + 2.6 * uniform() : 0.2 + 1.3 * uniform();
    const int64_t len = std::min<int64_t>(static_cast<int64_t>(dur * kRate), n - pos);
    const double level = speaking ? std::pow(10.0, (-26.0 + 14.0 * uniform()) / 20.0) : std::pow(10.0, -70.0 / 20.0);
    for (int64_t i = 0; i < len; ++i) {
      const double u = uniform() * 2.0 - 1.0;  // uniform noise, RMS 1/sqrt(3)
      x[pos + i] = static_cast<float>(u * level * 1.7320508);
    }
    pos += len;
    speaking = !speaking;
  }
  return a;
}

std::vector<Value> chunks_of(const Ref<NDArray>& signal) {
  std::vector<Value> chunks;
  const int64_t n = signal->size();
  chunks.reserve(static_cast<size_t>(n / kChunk + 1));
  for (int64_t i = 0; i < n; i += kChunk) {
    const int64_t len = std::min<int64_t>(kChunk, n - i);
    Ref<NDArray> view = NDArray::wrap(DType::kFloat32, {len}, signal->data_as<float>() + i, signal, false);
    chunks.push_back(Value::audio(AudioBuffer::make(std::move(view), kRate).value()));
  }
  return chunks;
}

const std::vector<Value>& hour() {
  static const std::vector<Value> c = chunks_of(make_signal(3600.0));
  return c;
}
const std::vector<Value>& minute() {
  static const std::vector<Value> c = chunks_of(make_signal(60.0));
  return c;
}

const char* kResample = R"({"id": "resample", "node_type": "AudioResample", "params": {"sample_rate": 16000, "quality": "high"}})";
const char* kGain = R"({"id": "gain", "node_type": "AudioGain", "params": {"db": 6.0}})";
const char* kChunker = R"({"id": "chunker", "node_type": "AudioChunker", "params": {"duration_ms": 20.0}})";
const char* kVad = R"({"id": "vad", "node_type": "EnergyVAD", "params": {"include_audio": false}})";

std::shared_ptr<const Graph> chain(std::vector<std::string> nodes) {
  std::string text = R"({"version": "v1", "nodes": [)";
  for (size_t i = 0; i < nodes.size(); ++i) text += (i ? ", " : "") + nodes[i];
  return std::make_shared<const Graph>(bench::compile_or_throw(text + "]}"));
}

// Streams `chunks` through a session of `graph` on this thread; returns the outputs' count.
uint64_t stream(const std::shared_ptr<const Graph>& graph, const std::vector<Value>& chunks) {
  uint64_t outputs = 0;
  SessionOptions opts;
  opts.capacity = 1024;
  opts.on_output = [&](Value v) {
    benchmark::DoNotOptimize(v);
    ++outputs;
  };
  auto s = Session::open(graph, opts).value();
  for (const Value& c : chunks) {
    Status st = s->push(c);
    if (!st.ok()) throw std::runtime_error(st.to_string());
  }
  s->end();
  s->wait_closed();
  return outputs;
}

void run(benchmark::State& state, const std::shared_ptr<const Graph>& graph, const std::vector<Value>& chunks) {
  uint64_t outputs = 0;
  for (auto _ : state) outputs = stream(graph, chunks);
  const double samples = static_cast<double>(chunks.size()) * kChunk;
  state.counters["outputs"] = static_cast<double>(outputs);
  // Seconds per input sample (printed with an SI prefix: "2.5n" is 2.5 ns).
  state.counters["s_per_sample"] =
      benchmark::Counter(samples, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
  state.counters["x_realtime"] =
      benchmark::Counter(samples / kRate, benchmark::Counter::kIsIterationInvariantRate);
}

void BM_Chain_OneHour(benchmark::State& state) {
  run(state, chain({kResample, kGain, kChunker, kVad}), hour());
}

void BM_Node_Resample(benchmark::State& state) { run(state, chain({kResample}), minute()); }
void BM_Node_Gain(benchmark::State& state) { run(state, chain({kGain}), minute()); }
void BM_Node_Chunker(benchmark::State& state) { run(state, chain({kChunker}), minute()); }
void BM_Node_EnergyVAD(benchmark::State& state) { run(state, chain({kVad}), minute()); }

}  // namespace

BENCHMARK(BM_Chain_OneHour)->Unit(benchmark::kSecond)->Iterations(3)->UseRealTime();
BENCHMARK(BM_Node_Resample)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Node_Gain)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Node_Chunker)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Node_EnergyVAD)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_MAIN();
