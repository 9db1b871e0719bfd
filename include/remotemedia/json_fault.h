// Where and why a JSON text is not valid JSON (docs/MANIFEST.md, rule 3), in the one vocabulary
// both runtimes use: python/remotemedia/core/json_fault.py finds the same fault in the same words.
//
// nlohmann's and CPython's parsers each have their own reasons and positions; a text either one
// refuses is scanned again here, only then (the scan is slower than the parser, and a valid text
// never pays for it).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace remotemedia {

struct JsonFault {
  size_t line = 1;    // 1-based
  size_t column = 1;  // 1-based, in UTF-8 characters: one past the last character at the end
  // One of: "unexpected end of input", "unexpected character 'x'" (U+XXXX outside ASCII '!'-'~'),
  // "extra data after the value", "invalid number", "invalid literal", "unterminated string",
  // "invalid escape", "lone surrogate escape", "control character U+000A in a string",
  // "invalid UTF-8 byte 0xff", "NaN is not a JSON value" (Infinity, -Infinity),
  // "number out of the range of a double", "duplicate key \"k\"" (the second key, as written).
  std::string reason;

  // "at line L column C: reason"
  std::string where() const;
};

// The first fault of `text` as strict RFC 8259 JSON in UTF-8, with no duplicate key in an object
// and no number beyond the range of a double; nullopt when there is none. Iterative, so a text of
// any depth is scanned (the depth limit is parse_json's, not a fault of the syntax).
std::optional<JsonFault> find_json_fault(std::string_view text);

}  // namespace remotemedia
