// NDArray: a numeric array with a dtype and a shape over shared, immutable, C-contiguous storage.
//
// Storage is kept alive by `keeper`: either memory the runtime allocated, or the Python object the
// array came from (numpy arrays cross into the runtime without a copy; the binding's keeper takes
// the GIL when it lets go). `numpy_scalar` marks a 0-d array that stands for a numpy scalar, so it
// goes back to Python as a scalar; a 1-D array may also stand for a column of such scalars (see
// Batch in executor.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "remotemedia/ref.h"

namespace remotemedia {

enum class DType : uint8_t {
  kBool,
  kInt8,
  kInt16,
  kInt32,
  kInt64,
  kUInt8,
  kUInt16,
  kUInt32,
  kUInt64,
  kFloat16,
  kFloat32,
  kFloat64,
};

size_t dtype_size(DType dtype);
// numpy's name for the dtype ("int64", "float32", ...).
const char* dtype_name(DType dtype);

// The most bytes the runtime allocates for one array whose size comes from a parameter or from an
// item's header rather than from samples it already holds (a padded chunk, channels duplicated from
// mono, a resampler's output): 4 GiB. A node checks before it allocates (audio_fits in
// nodes/audio_stream.h) and says which parameter asked for too much (docs/NODES.md, "Limits").
constexpr int64_t kMaxAllocationBytes = int64_t{1} << 32;

// The element count of `shape` and its size in bytes at `item_bytes` per element, or false when a
// dimension is negative or a product overflows int64 (every size computation goes through here).
bool checked_size(const std::vector<int64_t>& shape, size_t item_bytes, int64_t* elements, int64_t* bytes);

template <typename T>
struct DTypeOf;
template <> struct DTypeOf<int16_t> { static constexpr DType value = DType::kInt16; };
template <> struct DTypeOf<int32_t> { static constexpr DType value = DType::kInt32; };
template <> struct DTypeOf<int64_t> { static constexpr DType value = DType::kInt64; };
template <> struct DTypeOf<float> { static constexpr DType value = DType::kFloat32; };
template <> struct DTypeOf<double> { static constexpr DType value = DType::kFloat64; };

class NDArray final : public HeapObject {
 public:
  // Allocates storage owned by the runtime, uninitialised (kernels overwrite every element, and
  // zeroing first cost a third of a Calculator pass); `zeroed` asks for zeros. Write through
  // mutable_data() before the array is shared; after that it is immutable. A shape whose size
  // overflows (checked_size) throws std::bad_array_new_length instead of allocating too little:
  // callers whose shape comes from a parameter or an item check it first.
  static Ref<NDArray> allocate(DType dtype, std::vector<int64_t> shape, bool numpy_scalar = false,
                               bool zeroed = false);
  // Wraps storage someone else owns; `keeper` holds it alive. `is_source` says the array is exactly
  // the object `keeper` stands for (not a view of part of it), so it can go back as that object.
  static Ref<NDArray> wrap(DType dtype, std::vector<int64_t> shape, const void* data,
                           Ref<HeapObject> keeper, bool is_source, bool numpy_scalar = false);

  DType dtype() const { return dtype_; }
  const std::vector<int64_t>& shape() const { return shape_; }
  int ndim() const { return static_cast<int>(shape_.size()); }
  int64_t size() const { return size_; }
  size_t nbytes() const { return static_cast<size_t>(size_) * dtype_size(dtype_); }
  bool numpy_scalar() const { return numpy_scalar_; }
  const void* data() const { return data_; }
  template <typename T>
  const T* data_as() const { return static_cast<const T*>(data_); }
  void* mutable_data() { return const_cast<void*>(data_); }
  template <typename T>
  T* mutable_data_as() { return static_cast<T*>(mutable_data()); }

  const Ref<HeapObject>& keeper() const { return keeper_; }
  bool is_source() const { return is_source_; }

  // Element i of a 1-D array as a numpy-scalar 0-d array sharing this storage.
  Ref<NDArray> element(int64_t i) const;
  // Row i of an N-D array (N >= 2) as an (N-1)-D view sharing this storage.
  Ref<NDArray> row(int64_t i) const;

  bool equals(const NDArray& other) const;

 private:
  NDArray() = default;
  DType dtype_ = DType::kFloat64;
  std::vector<int64_t> shape_;
  int64_t size_ = 0;
  const void* data_ = nullptr;
  Ref<HeapObject> keeper_;
  bool is_source_ = false;
  bool numpy_scalar_ = false;
};

}  // namespace remotemedia
