// The audio nodes (src/nodes/audio_*.cpp), made from the registry as a manifest makes them. The
// input picks a node type (every registered type whose name starts with "Audio", and
// EnergyVADNode), its parameters (each absent, of its type with edge values, or any value), and
// up to 12 items (mostly audio of fuzzed sample type, layout, channels, frames and rate, their
// samples the input's bytes; sometimes not audio), then drives the node as the runtime does:
// open, process (or process_batch) per item, flush when nothing failed, close. Every output's
// samples are read in full, so a view past its storage is an AddressSanitizer report.
//
// The parameters pass the registry's schema and the type's own check first; those must fail
// with kInvalidParameter or not at all. A kInternal error from the node is a finding (a trap).
// AudioFileSourceNode reads the input's remaining bytes as a file; AudioFileSinkNode writes into
// a directory of this process's own, whatever path the input names.
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "fuzz_input.h"
#include "remotemedia/audio.h"
#include "remotemedia/node.h"
#include "remotemedia/registry.h"

using namespace remotemedia;

namespace {

constexpr int kMaxItems = 12;
constexpr int64_t kMaxFrames = 4096;  // per item: inputs stay small by design
constexpr int kMaxChannels = 8;

const std::vector<const NodeTypeInfo*>& audio_types() {
  static const std::vector<const NodeTypeInfo*> types = [] {
    std::vector<const NodeTypeInfo*> out;
    for (const NodeTypeInfo* t : Registry::global().types()) {
      if (t->name.rfind("Audio", 0) == 0 || t->name == "EnergyVADNode") out.push_back(t);
    }
    std::sort(out.begin(), out.end(), [](auto* a, auto* b) { return a->name < b->name; });
    return out;
  }();
  return types;
}

// Never destroyed: the exit handler that removes the directory runs after static destructors.
const std::string& scratch_dir() {
  static const std::string* dir = [] {
    char tmpl[] = "/tmp/rm_audio_fuzz_XXXXXX";
    if (mkdtemp(tmpl) == nullptr) std::abort();
    auto* path = new std::string(tmpl);
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(scratch_dir(), ec);
    });
    return path;
  }();
  return *dir;
}

const int64_t kIntEdges[] = {0,    1,     2,      3,      -1,          7,          160,       320,
                             1024, 16000, 44100,  48000,  2147483647,  2147483648, int64_t{1} << 40,
                             int64_t{1} << 62, INT64_MAX, INT64_MIN};
const double kNumberEdges[] = {0.0,  -0.0, 0.001, 0.5,  1.0,    -1.0,  6.0,     20.0,   -40.0,   300.0,
                               1e-300, 1e300, -1e300, 1e308, 400.0, 10000.0, 10000.5, 30000.0, -120.0, 6020.6,
                               INFINITY, -INFINITY, NAN};
const char* const kAnyStrings[] = {"wav", "flac", "ogg", "WAV", "mp3", "PCM_16", "PCM_24", "PCM_32", "PCM_U8",
                                   "PCM_S8", "FLOAT", "DOUBLE", "ULAW", "ALAW", "VORBIS", "OPUS", ""};

Value int_value(fuzz::ByteReader& in) {
  switch (in.u8() % 3) {
    case 0: return Value::integer(kIntEdges[in.u8() % std::size(kIntEdges)]);
    case 1: return Value::integer(static_cast<int8_t>(in.u8()));
    default: return Value::integer(in.i64());
  }
}

Value number_value(fuzz::ByteReader& in) {
  switch (in.u8() % 4) {
    case 0: return Value::real(kNumberEdges[in.u8() % std::size(kNumberEdges)]);
    case 1: return int_value(in);
    case 2: return Value::real(static_cast<int8_t>(in.u8()) * 0.5);
    default: return Value::real(in.f64());
  }
}

// A parameter for `spec`, or null Value with *absent set.
Value param_value(const ParamSpec& spec, fuzz::ByteReader& in, bool* absent) {
  const int how = in.u8() % 8;
  *absent = how == 0;
  if (how == 0) return Value();
  if (how == 6) return fuzz::decode_value(in);
  if (how == 7) return Value::null();
  switch (spec.type) {
    case ParamType::kInt: return int_value(in);
    case ParamType::kNumber: return number_value(in);
    case ParamType::kBool: return Value::boolean(in.u8() & 1);
    case ParamType::kString:
      if (!spec.choices.empty() && how < 5) return Value::string(spec.choices[in.u8() % spec.choices.size()]);
      return Value::string(fuzz::valid_utf8(in.take(in.u8() % 16)));
    case ParamType::kList: {
      List items;
      const int n = in.u8() % 6;
      for (int i = 0; i < n; ++i) items.push_back(Value::integer(static_cast<int8_t>(in.u8()) % 10));
      return Value::list(std::move(items));
    }
    default:
      if (how < 5) return Value::string(kAnyStrings[in.u8() % std::size(kAnyStrings)]);
      return int_value(in);
  }
}

struct ItemFormat {
  DType dtype = DType::kFloat32;
  ChannelLayout layout = ChannelLayout::kInterleaved;
  int channels = 1;
  bool two_d = false;
  int64_t rate = 16000;
};

const int64_t kRates[] = {8000, 16000, 22050, 44100, 48000, 96000, 1, 2, 3, 7, 1000, 11025, 192000};

ItemFormat item_format(fuzz::ByteReader& in) {
  const DType dtypes[] = {DType::kInt16, DType::kInt32, DType::kFloat32, DType::kFloat64};
  ItemFormat f;
  f.dtype = dtypes[in.u8() % 4];
  const uint8_t shape = in.u8();
  f.channels = (shape & 0x0F) % (kMaxChannels + 1);  // 0: a 2-D array of no channels
  f.two_d = f.channels != 1 || (shape & 0x10);
  f.layout = (shape & 0x20) ? ChannelLayout::kPlanar : ChannelLayout::kInterleaved;
  const uint8_t r = in.u8();
  f.rate = (r & 0x80) ? static_cast<int64_t>(in.u64() % (uint64_t{1} << 31)) : kRates[r % std::size(kRates)];
  return f;
}

// An audio item of format `f` and `frames` frames whose sample bytes are the input's; once the
// input runs out, a deterministic tone.
Value audio_item(const ItemFormat& f, int64_t frames, fuzz::ByteReader& in) {
  std::vector<int64_t> shape;
  if (!f.two_d) shape = {frames};
  else if (f.layout == ChannelLayout::kPlanar) shape = {f.channels, frames};
  else shape = {frames, f.channels};
  Ref<NDArray> a = NDArray::allocate(f.dtype, shape, false, /*zeroed=*/true);
  const size_t have = std::min(in.remaining(), a->nbytes());
  std::string_view bytes = in.take(have);
  if (!bytes.empty()) std::memcpy(a->mutable_data(), bytes.data(), bytes.size());
  const size_t width = dtype_size(f.dtype);
  for (int64_t i = static_cast<int64_t>(have / width); i < a->size(); ++i) {
    const double x = 0.6 * std::sin(0.05 * static_cast<double>(i));
    switch (f.dtype) {
      case DType::kInt16: a->mutable_data_as<int16_t>()[i] = static_cast<int16_t>(x * 32767); break;
      case DType::kInt32: a->mutable_data_as<int32_t>()[i] = static_cast<int32_t>(x * 2147483647.0); break;
      case DType::kFloat32: a->mutable_data_as<float>()[i] = static_cast<float>(x); break;
      default: a->mutable_data_as<double>()[i] = x; break;
    }
  }
  Result<Ref<AudioBuffer>> audio = AudioBuffer::make(std::move(a), f.rate, f.layout);
  return audio.ok() ? Value::audio(*audio) : Value::null();
}

// Reads every byte of every output's samples (and of nested values): ASan checks each view.
uint64_t touch(const Value& v) {
  uint64_t sum = 0;
  auto bytes = [&](const NDArray& a) {
    const auto* p = static_cast<const unsigned char*>(a.data());
    for (size_t i = 0; i < a.nbytes(); ++i) sum += p[i];
  };
  switch (v.kind()) {
    case ValueKind::kAudio: {
      const AudioBuffer& a = v.as_audio();
      if (a.sample_rate() <= 0 || !is_sample_type(a.dtype())) __builtin_trap();
      if (a.frames() * a.channels() != a.samples()->size()) __builtin_trap();
      bytes(*a.samples());
      break;
    }
    case ValueKind::kArray: bytes(v.as_array()); break;
    case ValueKind::kList:
      for (const Value& x : v.as_list()) sum += touch(x);
      break;
    case ValueKind::kMap:
      for (const auto& [k, x] : v.as_map()) sum += k.size() + touch(x);
      break;
    case ValueKind::kFloat: sum += std::isnan(v.as_float()); break;
    default: break;
  }
  return sum;
}

// Where touch() puts its sum, so the reads are not optimised away.
volatile uint64_t touched = 0;

void expect_not_internal(const Status& s) {
  if (s.code() == StatusCode::kInternal) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::ByteReader in(data, size);
  const std::vector<const NodeTypeInfo*>& types = audio_types();
  const NodeTypeInfo& info = *types[in.u8() % types.size()];
  const bool is_source = info.name == "AudioFileSourceNode";
  const bool is_sink = info.name == "AudioFileSinkNode";

  Map given;
  for (const ParamSpec& spec : info.params) {
    bool absent = false;
    Value v = param_value(spec, in, &absent);
    if (is_sink && spec.name == "path") {
      const char* const exts[] = {".wav", ".flac", ".ogg", ".WAV", ".txt", ""};
      v = Value::string(scratch_dir() + "/out" + exts[in.u8() % std::size(exts)]);
      absent = false;
    }
    if (!absent) given.emplace_back(spec.name, std::move(v));
  }
  Result<Value> params = Registry::check_params(info, Value::map(std::move(given)), "$.params");
  if (!params.ok()) {
    if (params.status().code() != StatusCode::kInvalidParameter) __builtin_trap();
    return 0;
  }
  if (info.check) {
    Status s = info.check(*params, "$.params");
    if (!s.ok()) {
      if (s.code() != StatusCode::kInvalidParameter) __builtin_trap();
      return 0;
    }
  }

  // The items: audio in a format that mostly stays that of the first (streams fix it), a file's
  // path for the file source.
  const int count = 1 + in.u8() % kMaxItems;
  const bool batch = in.u8() & 1;
  std::vector<Value> items;
  ItemFormat format = item_format(in);
  int64_t first_rate = 0;
  if (is_source) {
    const std::string path = scratch_dir() + "/in";
    std::string_view file = in.take(in.u8() & 1 ? 1 << 16 : in.remaining());
    std::ofstream(path, std::ios::binary).write(file.data(), static_cast<std::streamsize>(file.size()));
    for (int i = 0; i < std::min(count, 2); ++i) items.push_back(Value::string(path));
    if (count > 2) items.push_back(Value::string(scratch_dir() + "/missing.wav"));
  } else {
    for (int i = 0; i < count; ++i) {
      const uint8_t kind = in.u8();
      if (kind % 16 == 15) {
        items.push_back(fuzz::decode_value(in));
        continue;
      }
      if (kind % 16 == 14) format = item_format(in);
      const int64_t high = in.u8();
      const int64_t frames = (high << 8 | in.u8()) % (kMaxFrames + 1);
      Value item = audio_item(format, frames, in);
      if (item.kind() == ValueKind::kAudio && first_rate == 0) first_rate = item.as_audio().sample_rate();
      items.push_back(std::move(item));
    }
  }

  // Memory by design, not caps on faults: the runtime lets a node make arrays of up to 4 GiB
  // (ndarray.h), more than a fuzzing process may use (-rss_limit_mb=2048), so the parameters that
  // scale an output past the items' own size stay small here: a padded chunk's length, an output
  // channel count, a resampling ratio (output frames = input frames * ratio). Parameters beyond
  // the runtime's own limits still go through, and must be refused.
  auto number_of = [](const Value& v) { return v.is_int() ? static_cast<double>(v.as_int()) : v.as_float(); };
  if (info.name == "AudioChunkerNode" && params->find("pad")->as_bool()) {
    const Value* frames = params->find("frames");
    const Value* ms = params->find("duration_ms");
    double chunk = frames->is_int() ? static_cast<double>(frames->as_int()) : 0.0;
    if (!ms->is_null()) chunk = number_of(*ms) * static_cast<double>(first_rate) / 1000.0;
    if (chunk > (1 << 20) && chunk <= 2147483647.0) return 0;
  }
  if (info.name == "AudioFormatNode") {
    const Value* channels = params->find("channels");
    if (channels->is_int() && channels->as_int() > 256 && channels->as_int() <= 65536) return 0;
  }
  if (info.name == "AudioResampleNode" && first_rate > 0) {
    const double ratio = number_of(*params->find("sample_rate")) / static_cast<double>(first_rate);
    if (ratio > 1024 && ratio <= 65536) return 0;
  }

  if (std::getenv("RM_FUZZ_VERBOSE")) {  // for diagnosing a reproducer
    std::fprintf(stderr, "%s, %s\n", info.name.c_str(), batch ? "process_batch" : "process");
    for (const auto& [name, v] : params->as_map()) {
      Result<std::string> j = to_json(v);
      if (v.is_float()) std::fprintf(stderr, "  %s = %g\n", name.c_str(), v.as_float());
      else std::fprintf(stderr, "  %s = %s\n", name.c_str(), j.ok() ? j->c_str() : v.type_name().c_str());
    }
    for (const Value& v : items) {
      std::fprintf(stderr, "  item: %s\n", v.kind() == ValueKind::kAudio ? v.as_audio().describe().c_str() : v.type_name().c_str());
    }
  }
  Result<std::unique_ptr<Node>> made = info.factory(*params);
  if (!made.ok()) {
    expect_not_internal(made.status());
    return 0;
  }
  Node& node = **made;
  Status s = node.open();
  if (!s.ok()) {
    expect_not_internal(s);
    return 0;
  }
  std::vector<Value> out;
  VectorEmitter emit(out);
  if (batch) {
    size_t failed_at = SIZE_MAX;
    std::vector<Value> copy = items;
    s = node.process_batch(copy, out, &failed_at);
    if (!s.ok() && failed_at >= items.size()) __builtin_trap();
  } else {
    for (const Value& item : items) {
      s = node.process(item, emit);
      if (!s.ok()) break;
    }
  }
  if (s.ok()) s = node.flush(emit);
  expect_not_internal(s);
  uint64_t sum = 0;
  for (const Value& v : out) sum += touch(v);
  touched = sum;
  expect_not_internal(node.close());
  if (is_sink) {
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(scratch_dir(), ec)) {
      std::filesystem::remove(entry.path(), ec);
    }
  }
  return 0;
}
