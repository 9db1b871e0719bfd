#include "python/convert.h"

#include <nanobind/ndarray.h>

#include <string>
#include <vector>

#include "python/py_object.h"

namespace remotemedia::py {

namespace {

constexpr int kMaxDepth = 64;  // deeper lists / dicts travel as opaque objects

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
    Py_ssize_t n = 0;
    const char* s = PyUnicode_AsUTF8AndSize(o, &n);
    if (s == nullptr) {  // lone surrogates have no UTF-8 form: keep the object itself
      PyErr_Clear();
      return opaque(o);
    }
    return Value::string(std::string(s, static_cast<size_t>(n)));
  }
  if (t == &PyBytes_Type) {
    return Value::bytes(std::string(PyBytes_AS_STRING(o), static_cast<size_t>(PyBytes_GET_SIZE(o))));
  }
  if (t == &PyList_Type && depth < kMaxDepth) {
    const Py_ssize_t n = PyList_GET_SIZE(o);
    List items;
    items.reserve(static_cast<size_t>(n));
    for (Py_ssize_t i = 0; i < n; ++i) items.push_back(from_python_depth(PyList_GET_ITEM(o, i), depth + 1));
    return Value::list(std::move(items));
  }
  if (t == &PyDict_Type && depth < kMaxDepth) {
    Map entries;
    entries.reserve(static_cast<size_t>(PyDict_GET_SIZE(o)));
    PyObject *key, *val;
    Py_ssize_t pos = 0;
    while (PyDict_Next(o, &pos, &key, &val)) {
      Py_ssize_t n = 0;
      const char* s = Py_TYPE(key) == &PyUnicode_Type ? PyUnicode_AsUTF8AndSize(key, &n) : nullptr;
      if (s == nullptr) {  // non-string keys: the runtime's maps are keyed by text
        PyErr_Clear();
        return opaque(o);
      }
      entries.emplace_back(std::string(s, static_cast<size_t>(n)), from_python_depth(val, depth + 1));
    }
    return Value::map(std::move(entries));
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

Value from_python(nb::handle obj) { return from_python_depth(obj.ptr(), 0); }

nb::object to_python(const Value& v) {
  switch (v.kind()) {
    case ValueKind::kNull: return nb::none();
    case ValueKind::kBool: return nb::bool_(v.as_bool());
    case ValueKind::kInt: return nb::steal(PyLong_FromLongLong(v.as_int()));
    case ValueKind::kFloat: return nb::steal(PyFloat_FromDouble(v.as_float()));
    case ValueKind::kString: {
      const std::string& s = v.as_string();
      return nb::steal(PyUnicode_DecodeUTF8(s.data(), static_cast<Py_ssize_t>(s.size()), "surrogateescape"));
    }
    case ValueKind::kBytes: {
      const std::string& s = v.as_string();
      return nb::steal(PyBytes_FromStringAndSize(s.data(), static_cast<Py_ssize_t>(s.size())));
    }
    case ValueKind::kList: {
      const List& items = v.as_list();
      nb::object list = nb::steal(PyList_New(static_cast<Py_ssize_t>(items.size())));
      for (size_t i = 0; i < items.size(); ++i) {
        PyList_SET_ITEM(list.ptr(), static_cast<Py_ssize_t>(i), to_python(items[i]).release().ptr());
      }
      return list;
    }
    case ValueKind::kMap: {
      nb::dict d;
      for (const auto& [k, item] : v.as_map()) d[nb::str(k.data(), k.size())] = to_python(item);
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
  const Py_ssize_t n = PySequence_Fast_GET_SIZE(seq.ptr());
  PyObject** elements = PySequence_Fast_ITEMS(seq.ptr());
  batch.items.reserve(static_cast<size_t>(n));
  for (Py_ssize_t i = 0; i < n; ++i) batch.items.push_back(from_python_depth(elements[i], 0));
  return batch;
}

nb::object batch_to_python(const Batch& batch) {
  if (batch.is_column()) return array_to_numpy(*batch.column);
  nb::object list = nb::steal(PyList_New(static_cast<Py_ssize_t>(batch.items.size())));
  for (size_t i = 0; i < batch.items.size(); ++i) {
    PyList_SET_ITEM(list.ptr(), static_cast<Py_ssize_t>(i), to_python(batch.items[i]).release().ptr());
  }
  return list;
}

}  // namespace remotemedia::py
