// Audio files through libsndfile: AudioFileSourceNode reads files named by its items and emits their
// audio in chunks; AudioFileSinkNode writes the audio it receives to one file. The Python
// executor's versions (remotemedia/nodes/audio_files.py, on remotemedia/audio/files.py) use the
// soundfile package, which bundles its own libsndfile; docs/AUDIO.md says what both do and where
// the two libraries may differ (Ogg Vorbis).
//
// Exactness: libsndfile's own conversions between sample types are not those of docs/AUDIO.md
// (it scales floats by 0x7FFF when writing 16-bit PCM, truncates when narrowing), so neither
// runtime asks it to convert. A file is read in its subtype's natural sample type (the type its
// decoder produces without loss) and written from the subtype's natural type; convert_samples does
// the rest, by the shared rules. Both runtimes then decode WAV and FLAC to the same bits.
#include <sndfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "nodes/audio_stream.h"
#include "remotemedia/audio.h"
#include "remotemedia/audio_samples.h"
#include "remotemedia/node.h"
#include "remotemedia/registry.h"

namespace remotemedia {

namespace {

// ------------------------------------------------------------------------------ format tables

struct FileFormat {
  const char* name;  // lower case, as written in params and by the Python side
  int code;
  const char* default_subtype;
  std::vector<const char*> subtypes;  // the ones a file of this format may be written with
};

const std::vector<FileFormat>& writable_formats() {
  static const std::vector<FileFormat> formats = {
      {"wav", SF_FORMAT_WAV, "PCM_16", {"PCM_U8", "PCM_16", "PCM_24", "PCM_32", "FLOAT", "DOUBLE", "ULAW", "ALAW"}},
      {"flac", SF_FORMAT_FLAC, "PCM_16", {"PCM_S8", "PCM_16", "PCM_24"}},
      {"ogg", SF_FORMAT_OGG, "VORBIS", {"VORBIS", "OPUS"}},
  };
  return formats;
}

struct Subtype {
  const char* name;
  int code;
  DType natural;  // what the codec holds without loss; reads and writes go through this type
};

// Every subtype the Python side knows by name (soundfile's names). Reading accepts any file
// libsndfile opens; the natural type of a subtype missing here is float32 (a lossy decoder's).
const std::vector<Subtype>& subtypes() {
  static const std::vector<Subtype> table = {
      {"PCM_S8", SF_FORMAT_PCM_S8, DType::kInt16},     {"PCM_U8", SF_FORMAT_PCM_U8, DType::kInt16},
      {"PCM_16", SF_FORMAT_PCM_16, DType::kInt16},     {"PCM_24", SF_FORMAT_PCM_24, DType::kInt32},
      {"PCM_32", SF_FORMAT_PCM_32, DType::kInt32},     {"FLOAT", SF_FORMAT_FLOAT, DType::kFloat32},
      {"DOUBLE", SF_FORMAT_DOUBLE, DType::kFloat64},   {"ULAW", SF_FORMAT_ULAW, DType::kInt16},
      {"ALAW", SF_FORMAT_ALAW, DType::kInt16},         {"IMA_ADPCM", SF_FORMAT_IMA_ADPCM, DType::kInt16},
      {"MS_ADPCM", SF_FORMAT_MS_ADPCM, DType::kInt16}, {"GSM610", SF_FORMAT_GSM610, DType::kInt16},
      {"VOX_ADPCM", SF_FORMAT_VOX_ADPCM, DType::kInt16}, {"NMS_ADPCM_16", SF_FORMAT_NMS_ADPCM_16, DType::kInt16},
      {"NMS_ADPCM_24", SF_FORMAT_NMS_ADPCM_24, DType::kInt16}, {"NMS_ADPCM_32", SF_FORMAT_NMS_ADPCM_32, DType::kInt16},
      {"G721_32", SF_FORMAT_G721_32, DType::kInt16},   {"G723_24", SF_FORMAT_G723_24, DType::kInt16},
      {"G723_40", SF_FORMAT_G723_40, DType::kInt16},   {"DWVW_12", SF_FORMAT_DWVW_12, DType::kInt16},
      {"DWVW_16", SF_FORMAT_DWVW_16, DType::kInt16},   {"DWVW_24", SF_FORMAT_DWVW_24, DType::kInt32},
      {"DPCM_8", SF_FORMAT_DPCM_8, DType::kInt16},     {"DPCM_16", SF_FORMAT_DPCM_16, DType::kInt16},
      {"ALAC_16", SF_FORMAT_ALAC_16, DType::kInt16},   {"ALAC_20", SF_FORMAT_ALAC_20, DType::kInt32},
      {"ALAC_24", SF_FORMAT_ALAC_24, DType::kInt32},   {"ALAC_32", SF_FORMAT_ALAC_32, DType::kInt32},
      {"VORBIS", SF_FORMAT_VORBIS, DType::kFloat32},   {"OPUS", SF_FORMAT_OPUS, DType::kFloat32},
  };
  return table;
}

DType natural_dtype(int format) {
  const int code = format & SF_FORMAT_SUBMASK;
  for (const Subtype& s : subtypes()) {
    if (s.code == code) return s.natural;
  }
  return DType::kFloat32;
}

const Subtype* subtype_named(const std::string& name) {
  for (const Subtype& s : subtypes()) {
    if (name == s.name) return &s;
  }
  return nullptr;
}

const FileFormat* format_named(const std::string& name) {
  for (const FileFormat& f : writable_formats()) {
    if (name == f.name) return &f;
  }
  return nullptr;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// The extension of the path's last component, lower case, without the dot ("" when none).
std::string extension(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  const size_t dot = path.find_last_of('.');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return "";
  return lower(path.substr(dot + 1));
}

std::string join_names(const std::vector<const char*>& names, const char* sep, const char* last_sep) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += i + 1 == names.size() ? last_sep : sep;
    out += names[i];
  }
  return out;
}

std::vector<const char*> format_names() {
  std::vector<const char*> names;
  for (const FileFormat& f : writable_formats()) names.push_back(f.name);
  return names;
}

// What the sink writes, resolved from its parameters.
struct WriteSpec {
  const FileFormat* format = nullptr;
  const Subtype* subtype = nullptr;
};

Status param_error(std::string message, std::string path) {
  return std::move(Status(StatusCode::kInvalidParameter, std::move(message)).with_path(std::move(path)));
}

// The sink's parameters beyond their schema; the order and messages are check_config's in
// remotemedia/nodes/audio_files.py.
Result<WriteSpec> write_spec(const Value& params, const std::string& params_path) {
  WriteSpec spec;
  const std::string& path = params.find("path")->as_string();
  const Value* format = params.find("format");
  const std::vector<const char*> names = format_names();
  if (format != nullptr && !format->is_null()) {
    if (!format->is_string() || (spec.format = format_named(lower(format->as_string()))) == nullptr) {
      return param_error("parameter 'format' must be null or one of " + join_names(names, ", ", ", ") +
                             "; got " + (format->is_string() ? "'" + format->as_string() + "'" : format->type_name()),
                         params_path + ".format");
    }
  } else {
    const std::string ext = extension(path);
    spec.format = format_named(ext);
    if (spec.format == nullptr) {
      return param_error("cannot tell the file format from the path '" + path + "'" +
                             (ext.empty() ? std::string(" (no extension)") : " (extension ." + ext + ")") +
                             "; use a ." + join_names(names, ", .", " or .") + " path or give format: " +
                             join_names(names, ", ", " or "),
                         params_path + ".path");
    }
  }
  const Value* subtype = params.find("subtype");
  const std::vector<const char*>& valid = spec.format->subtypes;
  if (subtype != nullptr && !subtype->is_null()) {
    const std::string name = subtype->is_string() ? upper(subtype->as_string()) : std::string();
    const bool allowed = std::any_of(valid.begin(), valid.end(), [&](const char* s) { return name == s; });
    if (!allowed) {
      return param_error("parameter 'subtype' must be null or one of " + join_names(valid, ", ", ", ") + " for " +
                             spec.format->name + "; got " +
                             (subtype->is_string() ? "'" + subtype->as_string() + "'" : subtype->type_name()),
                         params_path + ".subtype");
    }
    spec.subtype = subtype_named(name);
  } else {
    spec.subtype = subtype_named(spec.format->default_subtype);
  }
  return spec;
}

// ------------------------------------------------------------------------------ the file handle

// Why opening failed, as the Python side words it: the operating system's reason when it has one
// (libsndfile only says "System error."), else libsndfile's message for its error code.
std::string read_failure(const std::string& path, int sf_code) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return std::strerror(errno);
  if (S_ISDIR(st.st_mode)) return std::strerror(EISDIR);
  if (::access(path.c_str(), R_OK) != 0) return std::strerror(errno);
  return sf_error_number(sf_code);
}

std::string write_failure(const std::string& path, int sf_code) {
  struct stat st;
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return std::strerror(EISDIR);
  const size_t slash = path.find_last_of('/');
  const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  if (::stat(dir.c_str(), &st) != 0) return std::strerror(errno);
  if (!S_ISDIR(st.st_mode)) return std::strerror(ENOTDIR);
  if (::access(dir.c_str(), W_OK) != 0) return std::strerror(errno);
  return sf_error_number(sf_code);
}

std::string read_error(const std::string& path, const std::string& why) {
  return "cannot read audio file '" + path + "': " + why;
}

std::string write_error(const std::string& path, const std::string& why) {
  return "cannot write audio file '" + path + "': " + why;
}

// An open SNDFILE, closed when it goes out of scope (a failed or cancelled run closes its nodes,
// and a node destroyed without close() still releases the file).
class SoundFile {
 public:
  SoundFile() = default;
  SoundFile(const SoundFile&) = delete;
  SoundFile& operator=(const SoundFile&) = delete;
  ~SoundFile() { (void)close(); }

  // SFM_READ or SFM_WRITE; `info` in: the format to write; out: what was opened.
  Status open(const std::string& path, int mode, SF_INFO* info) {
    (void)close();
    // A failed sf_open leaves its code in a process-wide slot that another session's open may
    // overwrite before sf_error(nullptr) reads it (soundfile takes a lock for the same reason).
    static std::mutex open_mutex;
    int code = SF_ERR_NO_ERROR;
    {
      std::lock_guard<std::mutex> lock(open_mutex);
      file_ = sf_open(path.c_str(), mode, info);
      if (file_ == nullptr) code = sf_error(nullptr);
    }
    if (file_ != nullptr) return Status::OK();
    return ValueError(mode == SFM_READ ? read_error(path, read_failure(path, code))
                                       : write_error(path, write_failure(path, code)));
  }

  bool is_open() const { return file_ != nullptr; }
  SNDFILE* get() const { return file_; }

  // libsndfile's message for the last error on this file, or "" when there is none.
  std::string error() const {
    return sf_error(file_) == SF_ERR_NO_ERROR ? std::string() : std::string(sf_strerror(file_));
  }

  // Closing finishes a written file's header; returns libsndfile's complaint, if any.
  std::string close() {
    if (file_ == nullptr) return {};
    const int code = sf_close(std::exchange(file_, nullptr));
    return code == 0 ? std::string() : std::string(sf_error_number(code));
  }

 private:
  SNDFILE* file_ = nullptr;
};

sf_count_t read_frames(SNDFILE* f, int16_t* p, sf_count_t n) { return sf_readf_short(f, p, n); }
sf_count_t read_frames(SNDFILE* f, int32_t* p, sf_count_t n) { return sf_readf_int(f, p, n); }
sf_count_t read_frames(SNDFILE* f, float* p, sf_count_t n) { return sf_readf_float(f, p, n); }
sf_count_t read_frames(SNDFILE* f, double* p, sf_count_t n) { return sf_readf_double(f, p, n); }
sf_count_t write_frames(SNDFILE* f, const int16_t* p, sf_count_t n) { return sf_writef_short(f, p, n); }
sf_count_t write_frames(SNDFILE* f, const int32_t* p, sf_count_t n) { return sf_writef_int(f, p, n); }
sf_count_t write_frames(SNDFILE* f, const float* p, sf_count_t n) { return sf_writef_float(f, p, n); }
sf_count_t write_frames(SNDFILE* f, const double* p, sf_count_t n) { return sf_writef_double(f, p, n); }

// Frames per libsndfile call, reading and writing (the Python side's _BLOCK_FRAMES).
constexpr int64_t kBlockFrames = 1 << 16;

// Frames per chunk: round(chunk_ms * rate / 1000), half to even as Python's round(), at least 1.
int64_t chunk_frames(double chunk_ms, int64_t rate) {
  const double exact = chunk_ms * static_cast<double>(rate) / 1000.0;
  const double frames = std::nearbyint(exact);
  if (!(frames >= 1.0)) return 1;
  if (frames > 9.0e15) return static_cast<int64_t>(9.0e15);
  return static_cast<int64_t>(frames);
}

// ------------------------------------------------------------------------------ AudioFileSource

// Each item is a path; emits that file's audio in chunks of chunk_ms (the last one shorter), in
// `dtype` and `layout`. Mono files give 1-D chunks.
class AudioFileSourceNode final : public Node {
 public:
  AudioFileSourceNode(double chunk_ms, DType dtype, ChannelLayout layout)
      : chunk_ms_(chunk_ms), dtype_(dtype), layout_(layout) {}

  Status process(Value item, Emitter& out) override {
    if (!item.is_string()) return TypeError("expects a path string, got " + item.type_name());
    const std::string& path = item.as_string();
    SF_INFO info{};
    RM_RETURN_IF_ERROR(file_.open(path, SFM_READ, &info));
    const DType natural = natural_dtype(info.format);
    const int64_t per_chunk = chunk_frames(chunk_ms_, info.samplerate);
    Status s = visit_sample_type(natural, [&](auto tag) {
      return emit_chunks<decltype(tag)>(path, info, per_chunk, out);
    });
    const std::string close_problem = file_.close();
    if (s.ok() && !close_problem.empty()) s = ValueError(read_error(path, close_problem));
    return s;
  }

  Status close() override {
    (void)file_.close();
    return Status::OK();
  }

 private:
  // Reads until libsndfile returns no more frames (the header's frame count is not trusted: a
  // truncated file has fewer), in blocks so that a huge chunk_ms does not allocate a huge buffer
  // for a short file.
  template <typename T>
  Status emit_chunks(const std::string& path, const SF_INFO& info, int64_t per_chunk, Emitter& out) {
    const int64_t channels = info.channels;
    std::vector<T> held;
    for (bool at_end = false; !at_end;) {
      held.clear();
      int64_t have = 0;
      while (have < per_chunk) {
        const int64_t want = std::min(per_chunk - have, kBlockFrames);
        held.resize(static_cast<size_t>((have + want) * channels));
        const sf_count_t got = read_frames(file_.get(), held.data() + have * channels, want);
        const std::string problem = file_.error();
        if (!problem.empty()) return ValueError(read_error(path, problem));
        have += got;
        if (got < want) {
          at_end = true;
          break;
        }
      }
      if (have == 0) break;
      std::vector<int64_t> shape = channels == 1 ? std::vector<int64_t>{have} : std::vector<int64_t>{have, channels};
      Ref<NDArray> samples = NDArray::allocate(DTypeOf<T>::value, std::move(shape));
      std::memcpy(samples->mutable_data(), held.data(), static_cast<size_t>(have * channels) * sizeof(T));
      RM_ASSIGN_OR_RETURN(Ref<AudioBuffer> chunk, AudioBuffer::make(std::move(samples), info.samplerate));
      out.emit(Value::audio(to_layout(convert_audio(chunk, dtype_), layout_)));
    }
    return Status::OK();
  }

  double chunk_ms_;
  DType dtype_;
  ChannelLayout layout_;
  SoundFile file_;
};

// ------------------------------------------------------------------------------ AudioFileSink

// Writes every Audio item to one file, opened at the first item (its rate and channel count); at
// end of input closes it and emits a summary. No item, no file.
class AudioFileSinkNode final : public Node {
 public:
  AudioFileSinkNode(std::string path, WriteSpec spec) : path_(std::move(path)), spec_(spec) {}

  Status process(Value item, Emitter&) override {
    RM_ASSIGN_OR_RETURN(Ref<AudioBuffer> audio, audio_of(item));
    const bool first = !stream_.started();
    RM_RETURN_IF_ERROR(stream_.check(*audio));
    if (first) RM_RETURN_IF_ERROR(open(*audio));
    if (audio->frames() == 0) return Status::OK();
    Ref<AudioBuffer> ready = to_layout(convert_audio(audio, spec_.subtype->natural), ChannelLayout::kInterleaved);
    // In blocks: libsndfile's Vorbis encoder crashes on one very large write (a few million frames,
    // in 1.2.0 and 1.2.2 alike); the Python sink writes the same blocks.
    const int64_t n = ready->frames();
    const int64_t channels = ready->channels();
    for (int64_t start = 0; start < n; start += kBlockFrames) {
      const int64_t count = std::min(kBlockFrames, n - start);
      const sf_count_t wrote = visit_sample_type(ready->dtype(), [&](auto tag) {
        using T = decltype(tag);
        return write_frames(file_.get(), ready->samples()->data_as<T>() + start * channels, count);
      });
      if (wrote != count) {
        const std::string problem = file_.error();
        return ValueError(write_error(path_, problem.empty() ? "short write" : problem));
      }
      frames_ += count;
    }
    return Status::OK();
  }

  Status flush(Emitter& out) override {
    if (!file_.is_open()) return Status::OK();
    const std::string problem = file_.close();
    if (!problem.empty()) return ValueError(write_error(path_, problem));
    out.emit(Value::map({
        {"path", Value::string(path_)},
        {"frames", Value::integer(frames_)},
        {"sample_rate", Value::integer(stream_.sample_rate())},
        {"channels", Value::integer(stream_.channels())},
        {"duration", Value::real(static_cast<double>(frames_) / stream_.sample_rate())},
    }));
    return Status::OK();
  }

  // After a failure or a cancel the file is closed as it is (a valid file with what was written).
  Status close() override {
    (void)file_.close();
    return Status::OK();
  }

 private:
  Status open(const AudioBuffer& first) {
    SF_INFO info{};
    info.samplerate = first.sample_rate();
    info.channels = first.channels();
    info.format = spec_.format->code | spec_.subtype->code;
    RM_RETURN_IF_ERROR(file_.open(path_, SFM_WRITE, &info));
    frames_ = 0;
    return Status::OK();
  }

  std::string path_;
  WriteSpec spec_;
  SoundFile file_;
  // The file's rate and channel count: the first item's (its sample type and layout may change).
  StreamFormat stream_{StreamFormat::Fixes::kRateAndChannels};
  int64_t frames_ = 0;
};

// ------------------------------------------------------------------------------ registration

double number(const Value& v) { return v.is_int() ? static_cast<double>(v.as_int()) : v.as_float(); }

DType dtype_named(const std::string& name) {
  if (name == "int16") return DType::kInt16;
  if (name == "int32") return DType::kInt32;
  if (name == "float64") return DType::kFloat64;
  return DType::kFloat32;
}

}  // namespace

void register_audio_file_nodes(Registry& registry) {
  (void)registry.add(NodeTypeInfo{
      "AudioFileSourceNode",
      {"AudioFileSource"},
      "Reads the audio file each item names (WAV, FLAC, Ogg, ...) and emits its audio in chunks of chunk_ms.",
      {ParamSpec{"chunk_ms", ParamType::kNumber, false, Value::real(20.0), {},
                 "Milliseconds per chunk (> 0); frames = round(chunk_ms * rate / 1000), the last chunk shorter."},
       ParamSpec{"dtype", ParamType::kString, false, Value::string("float32"),
                 {"int16", "int32", "float32", "float64"}, "Sample type of the chunks."},
       ParamSpec{"layout", ParamType::kString, false, Value::string("interleaved"), {"interleaved", "planar"},
                 "Channel layout of the chunks (mono chunks are 1-D)."}},
      [](const Value& params) -> Result<std::unique_ptr<Node>> {
        ChannelLayout layout = ChannelLayout::kInterleaved;
        (void)parse_layout(params.find("layout")->as_string(), &layout);
        return std::unique_ptr<Node>(std::make_unique<AudioFileSourceNode>(
            number(*params.find("chunk_ms")), dtype_named(params.find("dtype")->as_string()), layout));
      },
      nullptr,
      [](const Value& params, const std::string& params_path) -> Status {
        const double ms = number(*params.find("chunk_ms"));
        if (!(ms > 0.0)) return param_error("parameter 'chunk_ms' must be greater than 0", params_path + ".chunk_ms");
        return Status::OK();
      },
  });
  (void)registry.add(NodeTypeInfo{
      "AudioFileSinkNode",
      {"AudioFileSink"},
      "Writes the audio items to one file (opened at the first item); at end of input closes it and emits a summary.",
      {ParamSpec{"path", ParamType::kString, true, Value(), {}, "The file to write (replaced if it exists)."},
       ParamSpec{"format", ParamType::kAny, false, Value(), {}, "wav, flac or ogg; null: from the path's extension."},
       ParamSpec{"subtype", ParamType::kAny, false, Value(), {},
                 "The encoding (PCM_16, PCM_24, FLOAT, VORBIS, ...); null: PCM_16 for wav and flac, VORBIS for ogg."}},
      [](const Value& params) -> Result<std::unique_ptr<Node>> {
        RM_ASSIGN_OR_RETURN(WriteSpec spec, write_spec(params, "$.params"));
        return std::unique_ptr<Node>(
            std::make_unique<AudioFileSinkNode>(params.find("path")->as_string(), spec));
      },
      nullptr,
      [](const Value& params, const std::string& params_path) -> Status {
        Result<WriteSpec> spec = write_spec(params, params_path);
        return spec.ok() ? Status::OK() : spec.take_status();
      },
  });
}

}  // namespace remotemedia
