#include "python/convert.h"

#include <nanobind/ndarray.h>

#include <string>
#include <vector>

#include "python/py_object.h"
#include "python/raise_status.h"

namespace remotemedia::py {

namespace {

// Lists and dicts nest at most this many levels, as JSON data does (json.h); a deeper one, or one
// that contains itself, is refused (docs/SEMANTICS.md, "Values and their types").
constexpr int kMaxDepth = 64;
constexpr const char* kTooDeepMessage =
    "a list or dict nested more than 64 levels deep (or containing itself) is not a value";

// numpy's types, looked up once. Deliberately leaked: they must outlive every static destructor.
struct Numpy {
  PyObject* module = nullptr;
  PyTypeObject* ndarray = nullptr;
  PyObject* generic = nullptr;
  PyObject* ascontiguousarray = nullptr;
  PyObject* asarray = nullptr;
  // numpy's own int64 / uint64 dtypes ('l' / 'L' on LP64). An array made from a buffer says
  // 'q' / 'Q' (long long): equal dtypes, but its scalars are of another Python type.
  PyObject* int64_dtype = nullptr;
  PyObject* uint64_dtype = nullptr;
};

const Numpy& numpy() {
  static Numpy np = [] {
    Numpy n;
    nb::module_ m = nb::module_::import_("numpy");
    n.module = m.release().ptr();
    n.ndarray = reinterpret_cast<PyTypeObject*>(PyObject_GetAttrString(n.module, "ndarray"));
    n.generic = PyObject_GetAttrString(n.module, "generic");
    n.ascontiguousarray = PyObject_GetAttrString(n.module, "ascontiguousarray");
    n.asarray = PyObject_GetAttrString(n.module, "asarray");
    PyObject* dtype = PyObject_GetAttrString(n.module, "dtype");
    n.int64_dtype = PyObject_CallFunction(dtype, "s", "int64");
    n.uint64_dtype = PyObject_CallFunction(dtype, "s", "uint64");
    Py_DECREF(dtype);
    return n;
  }();
  return np;
}

// remotemedia.core.audio.Audio and its binding constructor, set by register_audio_class (from
// remotemedia._native at import); until then Audio objects travel as opaque objects.
struct AudioClass {
  PyTypeObject* type = nullptr;
  PyObject* from_native = nullptr;
  PyObject* samples = nullptr;  // interned attribute names
  PyObject* sample_rate = nullptr;
  PyObject* layout = nullptr;
  PyObject* interleaved = nullptr;
  PyObject* planar = nullptr;
};
AudioClass g_audio;  // written once with the GIL held, before any conversion of audio

Value opaque(PyObject* o, bool big_integer = false) {
  return Value::object(Ref<OpaqueObject>(new PyObjectHandle(o, big_integer)));
}

bool dtype_from_dlpack(nb::dlpack::dtype dt, DType* out) {
  using C = nb::dlpack::dtype_code;
  if (dt.lanes != 1) return false;
  switch (static_cast<C>(dt.code)) {
    case C::Int:
      switch (dt.bits) {
        case 8: *out = DType::kInt8; return true;
        case 16: *out = DType::kInt16; return true;
        case 32: *out = DType::kInt32; return true;
        case 64: *out = DType::kInt64; return true;
      }
      return false;
    case C::UInt:
      switch (dt.bits) {
        case 8: *out = DType::kUInt8; return true;
        case 16: *out = DType::kUInt16; return true;
        case 32: *out = DType::kUInt32; return true;
        case 64: *out = DType::kUInt64; return true;
      }
      return false;
    case C::Float:
      switch (dt.bits) {
        case 16: *out = DType::kFloat16; return true;
        case 32: *out = DType::kFloat32; return true;
        case 64: *out = DType::kFloat64; return true;
      }
      return false;
    case C::Bool: *out = DType::kBool; return dt.bits == 8;
    default: return false;
  }
}

nb::dlpack::dtype dtype_to_dlpack(DType d) {
  using C = nb::dlpack::dtype_code;
  auto make = [](C c, int bits) { return nb::dlpack::dtype{static_cast<uint8_t>(c), static_cast<uint8_t>(bits), 1}; };
  switch (d) {
    case DType::kBool: return make(C::Bool, 8);
    case DType::kInt8: return make(C::Int, 8);
    case DType::kInt16: return make(C::Int, 16);
    case DType::kInt32: return make(C::Int, 32);
    case DType::kInt64: return make(C::Int, 64);
    case DType::kUInt8: return make(C::UInt, 8);
    case DType::kUInt16: return make(C::UInt, 16);
    case DType::kUInt32: return make(C::UInt, 32);
    case DType::kUInt64: return make(C::UInt, 64);
    case DType::kFloat16: return make(C::Float, 16);
    case DType::kFloat32: return make(C::Float, 32);
    case DType::kFloat64: return make(C::Float, 64);
  }
  return make(C::Float, 64);
}

bool is_c_contiguous(const nb::ndarray<nb::ro, nb::device::cpu>& a) {
  int64_t expected = 1;
  for (size_t i = a.ndim(); i-- > 0;) {
    if (a.shape(i) != 1 && a.stride(i) != expected) return false;
    expected *= static_cast<int64_t>(a.shape(i));
  }
  return true;
}

// A numpy array as an NDArray over the same memory (copied only when not C-contiguous). nullptr
// for dtypes the runtime does not model (object, str, complex, datetime...).
Ref<NDArray> array_from_numpy(PyObject* o, bool numpy_scalar, bool is_source) {
  nb::ndarray<nb::ro, nb::device::cpu> arr;
  if (!nb::try_cast(nb::handle(o), arr, /*convert=*/false)) {
    PyErr_Clear();
    return Ref<NDArray>();
  }
  DType dtype;
  if (!dtype_from_dlpack(arr.dtype(), &dtype)) return Ref<NDArray>();
  nb::object keeper_obj = nb::borrow(o);
  if (!is_c_contiguous(arr)) {
    keeper_obj = nb::steal(PyObject_CallOneArg(numpy().ascontiguousarray, o));
    if (!keeper_obj.is_valid()) throw nb::python_error();
    if (!nb::try_cast(keeper_obj, arr, false)) return Ref<NDArray>();
    is_source = false;
  }
  std::vector<int64_t> shape(arr.ndim());
  for (size_t i = 0; i < arr.ndim(); ++i) shape[i] = static_cast<int64_t>(arr.shape(i));
  Ref<HeapObject> keeper(new PyObjectHandle(keeper_obj.ptr(), false));
  return NDArray::wrap(dtype, std::move(shape), arr.data(), keeper, is_source, numpy_scalar);
}

// An Audio object as an AudioBuffer over the same samples; an empty Value when it is malformed
// (mutated after construction), and it then travels as an opaque object.
Value audio_from_python(PyObject* o) {
  nb::object samples = nb::steal(PyObject_GetAttr(o, g_audio.samples));
  nb::object rate = nb::steal(PyObject_GetAttr(o, g_audio.sample_rate));
  nb::object layout = nb::steal(PyObject_GetAttr(o, g_audio.layout));
  if (!samples.is_valid() || !rate.is_valid() || !layout.is_valid() || !PyLong_Check(rate.ptr()) ||
      Py_TYPE(samples.ptr()) != numpy().ndarray) {
    PyErr_Clear();
    return Value();
  }
  const long long sample_rate = PyLong_AsLongLong(rate.ptr());
  if (sample_rate == -1 && PyErr_Occurred()) {
    PyErr_Clear();
    return Value();
  }
  Ref<NDArray> a = array_from_numpy(samples.ptr(), /*numpy_scalar=*/false, /*is_source=*/true);
  if (!a) return Value();
  const ChannelLayout l =
      PyObject_RichCompareBool(layout.ptr(), g_audio.planar, Py_EQ) == 1 ? ChannelLayout::kPlanar
                                                                         : ChannelLayout::kInterleaved;
  PyErr_Clear();
  Result<Ref<AudioBuffer>> audio = AudioBuffer::make(std::move(a), sample_rate, l);
  if (!audio.ok()) return Value();
  return Value::audio(std::move(audio).value());
}

bool all_keys_are_str(PyObject* dict) {
  PyObject *key, *val;
  Py_ssize_t pos = 0;
  while (PyDict_Next(dict, &pos, &key, &val)) {
    if (Py_TYPE(key) != &PyUnicode_Type) return false;
  }
  return true;
}

// Thrown through the recursion, turned into a NodeValueError by from_python / batch_from_python.
struct TooDeep {};
[[noreturn]] void throw_too_deep() { throw TooDeep{}; }

// A str's UTF-8 bytes. A lone surrogate has no UTF-8 form; it travels as its generalised UTF-8
// (WTF-8) bytes, which keep code point count and order, so the string is a string to every node
// (to_python decodes them back with "surrogatepass").
std::string utf8_of(PyObject* str) {
  Py_ssize_t n = 0;
  if (const char* s = PyUnicode_AsUTF8AndSize(str, &n)) return std::string(s, static_cast<size_t>(n));
  PyErr_Clear();
  nb::object wtf8 = nb::steal(PyUnicode_AsEncodedString(str, "utf-8", "surrogatepass"));
  if (!wtf8.is_valid()) throw nb::python_error();
  return std::string(PyBytes_AS_STRING(wtf8.ptr()), static_cast<size_t>(PyBytes_GET_SIZE(wtf8.ptr())));
}

// The str of UTF-8 bytes; surrogatepass gives back the lone surrogates utf8_of encoded.
nb::object str_of(const std::string& s) {
  PyObject* text = PyUnicode_DecodeUTF8(s.data(), static_cast<Py_ssize_t>(s.size()), "surrogatepass");
  if (text == nullptr) {  // other invalid UTF-8 (not made from a Python str): escaped bytes
    PyErr_Clear();
    text = PyUnicode_DecodeUTF8(s.data(), static_cast<Py_ssize_t>(s.size()), "surrogateescape");
  }
  if (text == nullptr) throw nb::python_error();
  return nb::steal(text);
}

Value from_python_depth(PyObject* o, int depth) {
  PyTypeObject* t = Py_TYPE(o);
  if (o == Py_None) return Value::null();
  if (t == &PyBool_Type) return Value::boolean(o == Py_True);
  if (t == &PyLong_Type) {
    int overflow = 0;
    const long long v = PyLong_AsLongLongAndOverflow(o, &overflow);
    if (overflow) return opaque(o, /*big_integer=*/true);
    return Value::integer(v);
  }
  if (t == &PyFloat_Type) return Value::real(PyFloat_AS_DOUBLE(o));
  if (t == &PyUnicode_Type) {
    return Value::string(utf8_of(o));
  }
  if (t == &PyBytes_Type) {
    return Value::bytes(std::string(PyBytes_AS_STRING(o), static_cast<size_t>(PyBytes_GET_SIZE(o))));
  }
  if (t == &PyList_Type || t == &PyDict_Type) {
    // The same rule as the Python executor's check_nesting (remotemedia.core.items): a dict is a
    // map when every key is a str, and a list or map nests at most kMaxDepth levels.
    if (t == &PyDict_Type && !all_keys_are_str(o)) return opaque(o);
    if (depth >= kMaxDepth) throw_too_deep();
    Ref<HeapObject> origin(new PyObjectHandle(o, false));
    if (t == &PyList_Type) {
      List items;
      items.reserve(static_cast<size_t>(PyList_GET_SIZE(o)));
      // The size is read again each time: converting an element may run Python code.
      for (Py_ssize_t i = 0; i < PyList_GET_SIZE(o); ++i) {
        nb::object element = nb::borrow(PyList_GET_ITEM(o, i));
        items.push_back(from_python_depth(element.ptr(), depth + 1));
      }
      return Value::list(std::move(items), std::move(origin));
    }
    Map entries;
    entries.reserve(static_cast<size_t>(PyDict_GET_SIZE(o)));
    PyObject *key, *val;
    Py_ssize_t pos = 0;
    while (PyDict_Next(o, &pos, &key, &val)) entries.emplace_back(utf8_of(key), from_python_depth(val, depth + 1));
    return Value::map(std::move(entries), std::move(origin));
  }
  const Numpy& np = numpy();
  if (t == g_audio.type && t != nullptr) {
    Value a = audio_from_python(o);
    return a.is_null() ? opaque(o) : a;
  }
  if (t == np.ndarray) {
    Ref<NDArray> a = array_from_numpy(o, /*numpy_scalar=*/false, /*is_source=*/true);
    return a ? Value::array(std::move(a)) : opaque(o);
  }
  if (PyObject_IsInstance(o, np.generic) == 1) {
    nb::object zero_d = nb::steal(PyObject_CallOneArg(np.asarray, o));
    if (!zero_d.is_valid()) throw nb::python_error();
    Ref<NDArray> a = array_from_numpy(zero_d.ptr(), /*numpy_scalar=*/true, /*is_source=*/false);
    return a ? Value::array(std::move(a)) : opaque(o);
  }
  PyErr_Clear();
  return opaque(o);
}

void release_ndarray(void* p) noexcept { static_cast<NDArray*>(p)->release(); }

nb::object array_to_numpy(const NDArray& a) {
  if (a.is_source()) {
    if (PyObject* original = python_object_of(a.keeper().get())) return nb::borrow(original);
  }
  a.add_ref();  // held by the capsule until numpy lets go of the memory
  nb::capsule owner(&a, release_ndarray);
  std::vector<size_t> shape(a.shape().begin(), a.shape().end());
  nb::ndarray<nb::numpy> view(const_cast<void*>(a.data()), shape.size(), shape.data(), owner, nullptr,
                              dtype_to_dlpack(a.dtype()));
  nb::object result = nb::cast(view, nb::rv_policy::reference);
  if (a.dtype() == DType::kInt64 || a.dtype() == DType::kUInt64) {
    PyObject* canonical = a.dtype() == DType::kInt64 ? numpy().int64_dtype : numpy().uint64_dtype;
    result = nb::steal(PyObject_CallMethod(result.ptr(), "view", "O", canonical));
    if (!result.is_valid()) throw nb::python_error();
  }
  if (a.numpy_scalar()) {
    nb::object scalar = nb::steal(PyObject_GetItem(result.ptr(), nb::tuple().ptr()));
    if (!scalar.is_valid()) throw nb::python_error();
    return scalar;
  }
  return result;
}

}  // namespace

void init_conversions() { (void)numpy(); }

void register_audio_class(nb::handle cls) {
  if (!PyType_Check(cls.ptr())) throw nb::type_error("register_audio_class expects a class");
  AudioClass a;
  a.type = reinterpret_cast<PyTypeObject*>(cls.inc_ref().ptr());  // kept for the process's life
  a.from_native = PyObject_GetAttrString(cls.ptr(), "_from_native");
  if (a.from_native == nullptr) throw nb::python_error();
  a.samples = PyUnicode_InternFromString("samples");
  a.sample_rate = PyUnicode_InternFromString("sample_rate");
  a.layout = PyUnicode_InternFromString("layout");
  a.interleaved = PyUnicode_InternFromString("interleaved");
  a.planar = PyUnicode_InternFromString("planar");
  g_audio = a;
}

Value from_python(nb::handle obj) {
  try {
    return from_python_depth(obj.ptr(), 0);
  } catch (TooDeep&) {
    raise_status(ValueError(kTooDeepMessage));
  }
}

nb::object to_python(const Value& v) {
  switch (v.kind()) {
    case ValueKind::kNull: return nb::none();
    case ValueKind::kBool: return nb::bool_(v.as_bool());
    case ValueKind::kInt: return nb::steal(PyLong_FromLongLong(v.as_int()));
    case ValueKind::kFloat: return nb::steal(PyFloat_FromDouble(v.as_float()));
    case ValueKind::kString: return str_of(v.as_string());
    case ValueKind::kBytes: {
      const std::string& s = v.as_string();
      return nb::steal(PyBytes_FromStringAndSize(s.data(), static_cast<Py_ssize_t>(s.size())));
    }
    case ValueKind::kList: {
      if (PyObject* o = python_object_of(v.origin())) return nb::borrow(o);  // the very object
      const List& items = v.as_list();
      nb::object list = nb::steal(PyList_New(static_cast<Py_ssize_t>(items.size())));
      for (size_t i = 0; i < items.size(); ++i) {
        PyList_SET_ITEM(list.ptr(), static_cast<Py_ssize_t>(i), to_python(items[i]).release().ptr());
      }
      return list;
    }
    case ValueKind::kMap: {
      if (PyObject* o = python_object_of(v.origin())) return nb::borrow(o);
      nb::dict d;
      for (const auto& [k, item] : v.as_map()) d[str_of(k)] = to_python(item);
      return d;
    }
    case ValueKind::kArray: return array_to_numpy(v.as_array());
    case ValueKind::kObject: {
      if (PyObject* o = python_object_of(&v.as_object())) return nb::borrow(o);
      const std::string digits = v.as_object().big_integer_digits();
      if (!digits.empty()) return nb::steal(PyLong_FromString(digits.c_str(), nullptr, 10));
      throw nb::type_error(("a native object of type '" + v.type_name() + "' has no Python form").c_str());
    }
    case ValueKind::kAudio: {
      if (g_audio.from_native == nullptr) throw nb::type_error("audio values need remotemedia.core.audio");
      const AudioBuffer& a = v.as_audio();
      nb::object samples = array_to_numpy(*a.samples());
      nb::object rate = nb::steal(PyLong_FromLong(a.sample_rate()));
      PyObject* layout = a.layout() == ChannelLayout::kPlanar ? g_audio.planar : g_audio.interleaved;
      PyObject* args[] = {samples.ptr(), rate.ptr(), layout};
      nb::object out = nb::steal(PyObject_Vectorcall(g_audio.from_native, args, 3, nullptr));
      if (!out.is_valid()) throw nb::python_error();
      return out;
    }
  }
  return nb::none();
}

// Converting a million items holds the GIL for a good fraction of a second: an awaited run does it
// on a worker thread, and the event loop's thread must get the GIL meanwhile. Python's own eval
// loop would hand it over at every switch interval; C++ code has to let go itself. Releasing and
// taking it back hands it to a thread that asked for it (Python's forced switching).
namespace {

constexpr size_t kItemsBetweenPauses = 4096;

void let_other_threads_run() {
  PyThreadState* state = PyEval_SaveThread();
  PyEval_RestoreThread(state);
}

}  // namespace

Batch batch_from_python(nb::handle items) {
  Batch batch;
  PyObject* o = items.ptr();
  if (Py_TYPE(o) == numpy().ndarray) {
    Ref<NDArray> a = array_from_numpy(o, false, /*is_source=*/true);
    if (a && a->ndim() == 0) throw nb::type_error("iteration over a 0-d array");
    if (a && a->ndim() == 1 && (a->dtype() == DType::kInt32 || a->dtype() == DType::kInt64 ||
                                a->dtype() == DType::kFloat32 || a->dtype() == DType::kFloat64)) {
      batch.column = std::move(a);
      return batch;
    }
    if (a) {
      batch.items.reserve(static_cast<size_t>(a->shape()[0]));
      for (int64_t i = 0; i < a->shape()[0]; ++i) {
        batch.items.push_back(Value::array(a->ndim() == 1 ? a->element(i) : a->row(i)));
      }
      return batch;
    }
  }
  nb::object seq = nb::steal(PySequence_Fast(o, "items must be iterable"));
  if (!seq.is_valid()) throw nb::python_error();
  batch.items.reserve(static_cast<size_t>(PySequence_Fast_GET_SIZE(seq.ptr())));
  for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(seq.ptr()); ++i) {
    // The list is the caller's own (PySequence_Fast does not copy one), so its size and storage
    // are read again after every pause, in which another thread may have changed it.
    if (i > 0 && static_cast<size_t>(i) % kItemsBetweenPauses == 0) let_other_threads_run();
    try {
      batch.items.push_back(from_python_depth(PySequence_Fast_ITEMS(seq.ptr())[i], 0));
    } catch (TooDeep&) {
      raise_status(ValueError("item " + std::to_string(i) + ": " + kTooDeepMessage));
    }
  }
  return batch;
}

nb::object batch_to_python(const Batch& batch) {
  if (batch.is_column()) return array_to_numpy(*batch.column);
  nb::object list = nb::steal(PyList_New(static_cast<Py_ssize_t>(batch.items.size())));
  for (size_t i = 0; i < batch.items.size(); ++i) {
    if (i > 0 && i % kItemsBetweenPauses == 0) let_other_threads_run();  // the list is not shared yet
    PyList_SET_ITEM(list.ptr(), static_cast<Py_ssize_t>(i), to_python(batch.items[i]).release().ptr());
  }
  return list;
}

}  // namespace remotemedia::py
