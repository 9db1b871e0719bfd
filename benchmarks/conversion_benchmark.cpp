// Python <-> native conversion per item, with the binding's own converters (src/python/convert.h),
// in a program that embeds CPython and imports numpy:
//
//   to_native  batch_from_python: a list of ints / a list of floats becomes boxed Values; a 1-D
//              int64 / float64 numpy array becomes a column over the array's own memory.
//   to_python  batch_to_python: boxed ints / floats become a new list of new Python objects (freeing
//              it is timed too, as a run's result is freed eventually); a column made natively
//              becomes a numpy array over the runtime's memory; the caller's own, unchanged array
//              goes back as itself.
//   run        what `Pipeline.run` costs below the Python call: to_native, run_batch (the seed's
//              Simple / Large pipeline: 3 PassThrough nodes), to_python.
//
//   ./build/tests/benchmarks/conversion_benchmark --benchmark_min_time=0.3 --benchmark_repetitions=5
//       --benchmark_report_aggregates_only=true
//
// The GIL is held throughout (one thread); the run benchmark releases it around run_batch as the
// binding does.
#include <Python.h>
#include <benchmark/benchmark.h>
#include <nanobind/nanobind.h>

#include <cstdio>
#include <string>
#include <vector>

#include "benchmark_util.h"
#include "python/convert.h"

namespace nb = nanobind;
using namespace remotemedia;

// A module compiled into this program: importing it sets up nanobind's internals (type registry,
// ndarray support) exactly as importing remotemedia._runtime does.
NB_MODULE(_rm_conversion_benchmark, m) { (void)m; }

namespace {

enum class Kind { kListOfInt, kListOfFloat, kNumpyInt64, kNumpyFloat64 };

const char* kind_name(Kind k) {
  switch (k) {
    case Kind::kListOfInt: return "list_of_int";
    case Kind::kListOfFloat: return "list_of_float";
    case Kind::kNumpyInt64: return "numpy_int64";
    case Kind::kNumpyFloat64: return "numpy_float64";
  }
  return "";
}

// The seed's inputs, 1..n, as Python objects (ints, or floats 1.5, 2.5, ...).
nb::object python_input(Kind k, int64_t n) {
  nb::module_ np = nb::module_::import_("numpy");
  switch (k) {
    case Kind::kListOfInt:
    case Kind::kListOfFloat: {
      nb::list list;
      for (int64_t i = 1; i <= n; ++i) {
        list.append(k == Kind::kListOfInt ? nb::object(nb::int_(i)) : nb::object(nb::float_(i + 0.5)));
      }
      return list;
    }
    case Kind::kNumpyInt64: return np.attr("arange")(1, n + 1, 1, "int64");
    case Kind::kNumpyFloat64: return np.attr("arange")(1, n + 1, 1, "float64");
  }
  return nb::none();
}

// The same items as a native Batch that did not come from Python (as a run's outputs).
Batch native_batch(Kind k, int64_t n) {
  Batch b;
  switch (k) {
    case Kind::kListOfInt:
      for (int64_t i = 1; i <= n; ++i) b.items.push_back(Value::integer(i));
      break;
    case Kind::kListOfFloat:
      for (int64_t i = 1; i <= n; ++i) b.items.push_back(Value::real(static_cast<double>(i) + 0.5));
      break;
    case Kind::kNumpyInt64: {
      std::vector<int64_t> v(static_cast<size_t>(n));
      for (int64_t i = 0; i < n; ++i) v[static_cast<size_t>(i)] = i + 1;
      b.column = bench::column_of(v);
      break;
    }
    case Kind::kNumpyFloat64: {
      std::vector<double> v(static_cast<size_t>(n));
      for (int64_t i = 0; i < n; ++i) v[static_cast<size_t>(i)] = static_cast<double>(i) + 1.5;
      b.column = bench::column_of(v);
      break;
    }
  }
  return b;
}

void set_per_item(benchmark::State& state, int64_t n) {
  const double items = static_cast<double>(state.iterations()) * static_cast<double>(n);
  state.counters["ns_per_item"] = benchmark::Counter(items, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["items_per_s"] = benchmark::Counter(items, benchmark::Counter::kIsRate);
}

void to_native(benchmark::State& state, Kind k) {
  const int64_t n = state.range(0);
  nb::object input = python_input(k, n);
  for (auto _ : state) {
    Batch b = py::batch_from_python(input);
    benchmark::DoNotOptimize(b.size());
  }
  set_per_item(state, n);
}

void to_python(benchmark::State& state, Kind k) {
  const int64_t n = state.range(0);
  const Batch b = native_batch(k, n);
  for (auto _ : state) {
    nb::object out = py::batch_to_python(b);
    benchmark::DoNotOptimize(out.ptr());
  }
  set_per_item(state, n);
}

// A numpy array in, unchanged by the run: it goes back as the caller's own object.
void numpy_round_trip_unchanged(benchmark::State& state) {
  const int64_t n = state.range(0);
  nb::object input = python_input(Kind::kNumpyInt64, n);
  for (auto _ : state) {
    nb::object out = py::batch_to_python(py::batch_from_python(input));
    if (!out.is(input)) {
      state.SkipWithError("the unchanged array did not come back as itself");
      break;
    }
  }
  set_per_item(state, n);
}

// Below Pipeline.run: to_native + run_batch (3 PassThrough) + to_python, as CompiledPipeline.run.
void run_simple(benchmark::State& state, Kind k) {
  const int64_t n = state.range(0);
  const Graph g = bench::compile_or_throw(bench::read_example_manifest("seed_simple.json"));
  nb::object input = python_input(k, n);
  for (auto _ : state) {
    Batch in = py::batch_from_python(input);
    Result<Batch> out = [&] {
      nb::gil_scoped_release release;
      return run_batch(g, std::move(in));
    }();
    nb::object result = py::batch_to_python(out.value());
    benchmark::DoNotOptimize(result.ptr());
  }
  set_per_item(state, n);
}

bool start_python() {
  if (PyImport_AppendInittab("_rm_conversion_benchmark", PyInit__rm_conversion_benchmark) != 0) return false;
  PyConfig config;
  PyConfig_InitPythonConfig(&config);
  // Paths as if this were the interpreter the project was configured with (its site-packages
  // hold numpy).
  PyStatus status = PyConfig_SetBytesString(&config, &config.program_name, RM_PYTHON_EXECUTABLE);
  if (!PyStatus_Exception(status)) status = Py_InitializeFromConfig(&config);
  PyConfig_Clear(&config);
  if (PyStatus_Exception(status)) {
    std::fprintf(stderr, "conversion_benchmark: cannot start Python: %s\n", status.err_msg ? status.err_msg : "");
    return false;
  }
  for (const char* module : {"_rm_conversion_benchmark", "numpy"}) {
    PyObject* m = PyImport_ImportModule(module);
    if (m == nullptr) {
      PyErr_Print();
      return false;
    }
    Py_DECREF(m);
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (!start_python()) return 1;
  const Kind kinds[] = {Kind::kListOfInt, Kind::kListOfFloat, Kind::kNumpyInt64, Kind::kNumpyFloat64};
  for (Kind k : kinds) {
    benchmark::RegisterBenchmark((std::string("to_native/") + kind_name(k)).c_str(), to_native, k)
        ->Arg(1000)->Arg(1000000)->Unit(benchmark::kMicrosecond);
  }
  for (Kind k : kinds) {
    benchmark::RegisterBenchmark((std::string("to_python/") + kind_name(k)).c_str(), to_python, k)
        ->Arg(1000)->Arg(1000000)->Unit(benchmark::kMicrosecond);
  }
  benchmark::RegisterBenchmark("round_trip_unchanged/numpy_int64", numpy_round_trip_unchanged)
      ->Arg(1000)->Arg(1000000)->Unit(benchmark::kMicrosecond);
  for (Kind k : {Kind::kListOfInt, Kind::kNumpyInt64}) {
    benchmark::RegisterBenchmark((std::string("run/seed_simple/") + kind_name(k)).c_str(), run_simple, k)
        ->Arg(1000)->Arg(1000000)->Unit(benchmark::kMicrosecond);
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  // Not finalizing: numpy and the converters' cached objects are meant to live until exit.
  return 0;
}
