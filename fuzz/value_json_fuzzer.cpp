// The value JSON codec (src/core/json.cpp): any text either parses or is a ManifestError at "$";
// what parses serialises (compact and indented), and the text parses back to the same value and
// serialises to the same text. Inputs whose first byte is 0x01 are instead a Value in the item
// encoding of fuzz_input.h, serialised: a success must be JSON that parses.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_input.h"
#include "remotemedia/json.h"

using namespace remotemedia;

namespace {

void round_trip(const Value& v, int indent) {
  Result<std::string> text = to_json(v, indent);
  if (!text.ok()) __builtin_trap();  // every parsed value has a JSON form
  Result<Value> again = parse_json(*text);
  if (!again.ok() || !fuzz::same(v, *again)) __builtin_trap();
  Result<std::string> text_again = to_json(*again, indent);
  if (!text_again.ok() || *text_again != *text) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 0 && data[0] == 0x01) {
    fuzz::ByteReader in(data + 1, size - 1);
    const Value v = fuzz::decode_value(in);
    Result<std::string> text = to_json(v);
    if (text.ok()) {
      Result<Value> parsed = parse_json(*text);
      if (!parsed.ok()) __builtin_trap();
    } else if (text.status().code() != StatusCode::kTypeError) {
      __builtin_trap();
    }
    return 0;
  }
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  Result<Value> v = parse_json(text);
  if (!v.ok()) {
    if (v.status().code() != StatusCode::kManifestError || v.status().path() != "$") __builtin_trap();
    (void)v.status().to_string();
    return 0;
  }
  round_trip(*v, -1);
  round_trip(*v, 2);
  return 0;
}
