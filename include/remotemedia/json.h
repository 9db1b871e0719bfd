// JSON text <-> Value, with the limits every manifest and CLI input obeys.
//
// Objects keep their key order; a repeated key is an error (docs/MANIFEST.md, rule 3), as is a
// byte-order mark. Integers beyond int64 become big-integer objects rather than silently
// turning into floats, so "must fit in int64" can be reported exactly as the Python side does.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "remotemedia/status.h"
#include "remotemedia/value.h"

namespace remotemedia {

inline constexpr size_t kMaxJsonBytes = 16u << 20;  // 16 MiB
inline constexpr int kMaxJsonDepth = 64;

// The JSON name of a value's type, for messages ("integer", "array", ...), as Python's side says it.
const char* json_type_name(const Value& value);

// Paths: `base.key` for an identifier-like key, else `base["key"]` (the key as a JSON string).
std::string key_path(const std::string& base, const std::string& key);

// Parse errors are kManifestError at path "$", the words of docs/MANIFEST.md rules 1-3, as the
// Python parser (python/remotemedia/core/manifest.py) says them:
//   "manifest text is more than the 16 MiB limit (16777216 bytes)"
//   "arrays and objects nested deeper than 64 levels"
//   "not valid JSON at line L column C: REASON" (REASON from find_json_fault, json_fault.h)
// The fault is looked for only once nlohmann has refused the text: a valid text is parsed once.
Result<Value> parse_json(std::string_view text);

// Serialises null, bool, int, float, string, list, map and big integers; arrays as nested lists.
// Other kinds (bytes, audio, opaque objects) and non-finite floats are a kTypeError.
Result<std::string> to_json(const Value& value, int indent = -1);

}  // namespace remotemedia
