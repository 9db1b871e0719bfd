#include "remotemedia/value.h"

namespace remotemedia {

namespace {

// Heap payloads of the non-numeric kinds. Immutable once wrapped in a Value.
struct StringObject final : HeapObject {
  explicit StringObject(std::string s) : text(std::move(s)) {}
  std::string text;
};
struct ListObject final : HeapObject {
  ListObject(List v, Ref<HeapObject> o) : items(std::move(v)), origin(std::move(o)) {}
  List items;
  Ref<HeapObject> origin;
};
struct MapObject final : HeapObject {
  MapObject(Map m, Ref<HeapObject> o) : entries(std::move(m)), origin(std::move(o)) {}
  Map entries;
  Ref<HeapObject> origin;
};

}  // namespace

const char* value_kind_name(ValueKind kind) {
  switch (kind) {
    case ValueKind::kNull: return "null";
    case ValueKind::kBool: return "bool";
    case ValueKind::kInt: return "int";
    case ValueKind::kFloat: return "float";
    case ValueKind::kString: return "str";
    case ValueKind::kBytes: return "bytes";
    case ValueKind::kList: return "list";
    case ValueKind::kMap: return "dict";
    case ValueKind::kArray: return "ndarray";
    case ValueKind::kAudio: return "audio";
    case ValueKind::kObject: return "object";
  }
  return "?";
}

Value Value::string(std::string s) {
  return heap(ValueKind::kString, new StringObject(std::move(s)));
}
Value Value::bytes(std::string b) { return heap(ValueKind::kBytes, new StringObject(std::move(b))); }
Value Value::list(List items, Ref<HeapObject> origin) {
  return heap(ValueKind::kList, new ListObject(std::move(items), std::move(origin)));
}
Value Value::map(Map entries, Ref<HeapObject> origin) {
  return heap(ValueKind::kMap, new MapObject(std::move(entries), std::move(origin)));
}
const HeapObject* Value::origin() const {
  if (kind_ == ValueKind::kList) return static_cast<const ListObject*>(p_)->origin.get();
  if (kind_ == ValueKind::kMap) return static_cast<const MapObject*>(p_)->origin.get();
  return nullptr;
}

const std::string& Value::as_string() const { return static_cast<const StringObject*>(p_)->text; }
const List& Value::as_list() const { return static_cast<const ListObject*>(p_)->items; }
const Map& Value::as_map() const { return static_cast<const MapObject*>(p_)->entries; }

const Value* Value::find(std::string_view key) const {
  if (kind_ != ValueKind::kMap) return nullptr;
  for (const auto& [k, v] : as_map()) {
    if (k == key) return &v;
  }
  return nullptr;
}

std::string Value::type_name() const {
  switch (kind_) {
    case ValueKind::kNull: return "NoneType";
    case ValueKind::kArray: {
      const NDArray& a = as_array();
      return a.numpy_scalar() ? std::string("numpy.") + dtype_name(a.dtype())
                              : std::string("ndarray[") + dtype_name(a.dtype()) + "]";
    }
    case ValueKind::kObject: return as_object().type_name();
    default: return value_kind_name(kind_);
  }
}

bool operator==(const Value& a, const Value& b) {
  if (a.kind_ != b.kind_) return false;
  switch (a.kind_) {
    case ValueKind::kNull: return true;
    case ValueKind::kBool:
    case ValueKind::kInt: return a.i_ == b.i_;
    case ValueKind::kFloat: return a.f_ == b.f_;
    case ValueKind::kString:
    case ValueKind::kBytes: return a.as_string() == b.as_string();
    case ValueKind::kList: return a.as_list() == b.as_list();
    case ValueKind::kMap: return a.as_map() == b.as_map();
    case ValueKind::kArray: return a.as_array().equals(b.as_array());
    case ValueKind::kAudio: {
      const AudioBuffer& x = a.as_audio();
      const AudioBuffer& y = b.as_audio();
      return x.sample_rate() == y.sample_rate() && x.channels() == y.channels() &&
             x.layout() == y.layout() && x.samples()->equals(*y.samples());
    }
    case ValueKind::kObject: return a.p_ == b.p_;
  }
  return false;
}

}  // namespace remotemedia
