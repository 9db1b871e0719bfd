#include "remotemedia/ndarray.h"

#include <cstring>
#include <memory>
#include <new>

namespace remotemedia {

size_t dtype_size(DType dtype) {
  switch (dtype) {
    case DType::kBool:
    case DType::kInt8:
    case DType::kUInt8: return 1;
    case DType::kInt16:
    case DType::kUInt16:
    case DType::kFloat16: return 2;
    case DType::kInt32:
    case DType::kUInt32:
    case DType::kFloat32: return 4;
    case DType::kInt64:
    case DType::kUInt64:
    case DType::kFloat64: return 8;
  }
  return 1;
}

const char* dtype_name(DType dtype) {
  switch (dtype) {
    case DType::kBool: return "bool";
    case DType::kInt8: return "int8";
    case DType::kInt16: return "int16";
    case DType::kInt32: return "int32";
    case DType::kInt64: return "int64";
    case DType::kUInt8: return "uint8";
    case DType::kUInt16: return "uint16";
    case DType::kUInt32: return "uint32";
    case DType::kUInt64: return "uint64";
    case DType::kFloat16: return "float16";
    case DType::kFloat32: return "float32";
    case DType::kFloat64: return "float64";
  }
  return "?";
}

namespace {

// Storage the runtime allocated itself. 64-byte alignment keeps SIMD loads aligned.
class OwnedStorage final : public HeapObject {
 public:
  OwnedStorage(size_t nbytes, bool zeroed)
      : bytes_(static_cast<unsigned char*>(::operator new[](nbytes ? nbytes : 1, std::align_val_t{64}))) {
    if (zeroed) std::memset(bytes_, 0, nbytes);
  }
  ~OwnedStorage() override { ::operator delete[](bytes_, std::align_val_t{64}); }
  unsigned char* bytes() const { return bytes_; }

 private:
  unsigned char* bytes_;
};

// Of a shape that already describes memory (a wrapped array, a row of one): it cannot overflow.
int64_t product(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

}  // namespace

bool checked_size(const std::vector<int64_t>& shape, size_t item_bytes, int64_t* elements, int64_t* bytes) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0 || __builtin_mul_overflow(n, d, &n)) return false;
  }
  int64_t b = 0;
  if (__builtin_mul_overflow(n, static_cast<int64_t>(item_bytes), &b)) return false;
  *elements = n;
  *bytes = b;
  return true;
}

Ref<NDArray> NDArray::allocate(DType dtype, std::vector<int64_t> shape, bool numpy_scalar, bool zeroed) {
  Ref<NDArray> a(new NDArray());
  a->dtype_ = dtype;
  int64_t bytes = 0;
  if (!checked_size(shape, dtype_size(dtype), &a->size_, &bytes)) throw std::bad_array_new_length();
  a->shape_ = std::move(shape);
  auto storage = make_ref<OwnedStorage>(static_cast<size_t>(bytes), zeroed);
  a->data_ = storage->bytes();
  a->keeper_ = storage;
  a->numpy_scalar_ = numpy_scalar;
  return a;
}

Ref<NDArray> NDArray::wrap(DType dtype, std::vector<int64_t> shape, const void* data,
                           Ref<HeapObject> keeper, bool is_source, bool numpy_scalar) {
  Ref<NDArray> a(new NDArray());
  a->dtype_ = dtype;
  a->size_ = product(shape);
  a->shape_ = std::move(shape);
  a->data_ = data;
  a->keeper_ = std::move(keeper);
  a->is_source_ = is_source;
  a->numpy_scalar_ = numpy_scalar;
  return a;
}

Ref<NDArray> NDArray::element(int64_t i) const {
  const auto* base = static_cast<const unsigned char*>(data_);
  return wrap(dtype_, {}, base + static_cast<size_t>(i) * dtype_size(dtype_), keeper_,
              /*is_source=*/false, /*numpy_scalar=*/true);
}

Ref<NDArray> NDArray::row(int64_t i) const {
  std::vector<int64_t> inner(shape_.begin() + 1, shape_.end());
  const size_t row_bytes = static_cast<size_t>(product(inner)) * dtype_size(dtype_);
  const auto* base = static_cast<const unsigned char*>(data_);
  return wrap(dtype_, std::move(inner), base + static_cast<size_t>(i) * row_bytes, keeper_,
              /*is_source=*/false);
}

bool NDArray::equals(const NDArray& other) const {
  if (dtype_ != other.dtype_ || shape_ != other.shape_ || numpy_scalar_ != other.numpy_scalar_) {
    return false;
  }
  if (dtype_ == DType::kFloat64) {  // element-wise so that NaN != NaN, as numpy's ==
    for (int64_t i = 0; i < size_; ++i) {
      if (!(data_as<double>()[i] == other.data_as<double>()[i])) return false;
    }
    return true;
  }
  if (dtype_ == DType::kFloat32) {
    for (int64_t i = 0; i < size_; ++i) {
      if (!(data_as<float>()[i] == other.data_as<float>()[i])) return false;
    }
    return true;
  }
  return std::memcmp(data_, other.data_, nbytes()) == 0;
}

}  // namespace remotemedia
