// Value: the one type for everything that flows through a pipeline.
//
// A tag plus an 8-byte payload: numbers and bools live inline, everything else is an immutable,
// reference-counted HeapObject, so copying a Value (fan-out) never copies a payload. Python values
// the runtime does not model (a tuple, a user's class, an int beyond int64) travel as an Object: an
// opaque handle that native nodes pass through untouched.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "remotemedia/audio.h"
#include "remotemedia/ndarray.h"
#include "remotemedia/ref.h"

namespace remotemedia {

enum class ValueKind : uint8_t {
  kNull,
  kBool,
  kInt,
  kFloat,
  kString,
  kBytes,
  kList,
  kMap,
  kArray,
  kAudio,
  kObject,
};

const char* value_kind_name(ValueKind kind);

// A value from outside the runtime's model, owned by whoever made it (in practice the Python
// binding, whose subclass takes the GIL when the last reference goes).
class OpaqueObject : public HeapObject {
 public:
  // The foreign type's name, for messages ("tuple", "int", "MyClass").
  virtual std::string type_name() const = 0;
  // True for an integer too large for int64 (a Python int, or a big integer read from JSON).
  virtual bool is_big_integer() const { return false; }
  // Decimal digits of a big integer, when known (JSON output); empty otherwise.
  virtual std::string big_integer_digits() const { return {}; }
};

class Value;
using List = std::vector<Value>;
// Insertion-ordered, like a Python dict; keys are unique.
using Map = std::vector<std::pair<std::string, Value>>;

class Value {
 public:
  Value() : kind_(ValueKind::kNull), i_(0) {}
  static Value null() { return Value(); }
  static Value boolean(bool b) { return Value(ValueKind::kBool, b ? 1 : 0); }
  static Value integer(int64_t i) { return Value(ValueKind::kInt, i); }
  static Value real(double d) {
    Value v;
    v.kind_ = ValueKind::kFloat;
    v.f_ = d;
    return v;
  }
  static Value string(std::string s);
  static Value bytes(std::string b);
  // `origin`: the object this list or map was made from (a binding's Python list or dict), which
  // it stands for; the binding gives that very object back (docs/SEMANTICS.md, "Identity").
  static Value list(List items, Ref<HeapObject> origin = {});
  static Value map(Map entries, Ref<HeapObject> origin = {});
  static Value array(Ref<NDArray> a) { return heap(ValueKind::kArray, a.get()); }
  static Value audio(Ref<AudioBuffer> a) { return heap(ValueKind::kAudio, a.get()); }
  static Value object(Ref<OpaqueObject> o) { return heap(ValueKind::kObject, o.get()); }

  Value(const Value& o) : kind_(o.kind_), i_(o.i_) {
    if (is_heap()) p_->add_ref();
  }
  Value(Value&& o) noexcept : kind_(o.kind_), i_(o.i_) { o.kind_ = ValueKind::kNull; }
  Value& operator=(const Value& o) {
    Value tmp(o);
    swap(tmp);
    return *this;
  }
  Value& operator=(Value&& o) noexcept {
    Value tmp(std::move(o));
    swap(tmp);
    return *this;
  }
  ~Value() {
    if (is_heap()) p_->release();
  }
  void swap(Value& o) noexcept {
    std::swap(kind_, o.kind_);
    std::swap(i_, o.i_);
  }

  ValueKind kind() const { return kind_; }
  bool is_null() const { return kind_ == ValueKind::kNull; }
  bool is_bool() const { return kind_ == ValueKind::kBool; }
  bool is_int() const { return kind_ == ValueKind::kInt; }
  bool is_float() const { return kind_ == ValueKind::kFloat; }
  bool is_string() const { return kind_ == ValueKind::kString; }
  bool is_list() const { return kind_ == ValueKind::kList; }
  bool is_map() const { return kind_ == ValueKind::kMap; }
  bool is_array() const { return kind_ == ValueKind::kArray; }
  bool is_object() const { return kind_ == ValueKind::kObject; }

  bool as_bool() const { return i_ != 0; }
  int64_t as_int() const { return i_; }
  double as_float() const { return f_; }
  const std::string& as_string() const;  // kString or kBytes
  const List& as_list() const;
  const Map& as_map() const;
  const NDArray& as_array() const { return *static_cast<const NDArray*>(p_); }
  Ref<NDArray> array_ref() const { return Ref<NDArray>(const_cast<NDArray*>(static_cast<const NDArray*>(p_))); }
  const AudioBuffer& as_audio() const { return *static_cast<const AudioBuffer*>(p_); }
  const OpaqueObject& as_object() const { return *static_cast<const OpaqueObject*>(p_); }
  Ref<OpaqueObject> object_ref() const {
    return Ref<OpaqueObject>(const_cast<OpaqueObject*>(static_cast<const OpaqueObject*>(p_)));
  }

  // Map lookup; nullptr when absent or not a map.
  const Value* find(std::string_view key) const;
  // A list's or map's origin (see list()), or nullptr.
  const HeapObject* origin() const;

  // A short type name for messages, Python's where there is one ("int", "str", "ndarray").
  std::string type_name() const;

  // Deep equality (NaN != NaN as in IEEE; objects compare by identity).
  friend bool operator==(const Value& a, const Value& b);

 private:
  Value(ValueKind k, int64_t i) : kind_(k), i_(i) {}
  static Value heap(ValueKind k, const HeapObject* p) {
    Value v;
    v.kind_ = k;
    v.p_ = p;
    if (p) p->add_ref();
    return v;
  }
  bool is_heap() const { return kind_ >= ValueKind::kString; }

  ValueKind kind_;
  union {
    int64_t i_;
    double f_;
    const HeapObject* p_;
  };
};

static_assert(sizeof(Value) == 16, "Value stays one tag and one word");

}  // namespace remotemedia
