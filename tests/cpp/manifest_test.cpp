// parse_manifest: the structural rules 1-17 of docs/MANIFEST.md, each with its exact JSON path, and
// the order in which they are checked.
#include "remotemedia/manifest.h"

#include <gtest/gtest.h>

#include <string>

#include "remotemedia/json.h"

namespace remotemedia {
namespace {

// A valid manifest with `nodes` and optional `tail` (further top-level members) spliced in.
std::string doc(const std::string& nodes, const std::string& tail = "") {
  return R"({"version": "v1", "nodes": )" + nodes + tail + "}";
}

const char* kNode = R"({"id": "a", "node_type": "PassThroughNode"})";

::testing::AssertionResult fails_at(const std::string& text, const std::string& path) {
  Result<Manifest> r = parse_manifest(text);
  if (r.ok()) return ::testing::AssertionFailure() << "accepted: " << text;
  if (r.status().code() != StatusCode::kManifestError) {
    return ::testing::AssertionFailure() << "code " << status_code_name(r.status().code()) << ": "
                                         << r.status().to_string();
  }
  if (r.status().path() != path) {
    return ::testing::AssertionFailure() << "path " << r.status().path() << ", expected " << path
                                         << " (" << r.status().message() << ") for " << text;
  }
  return ::testing::AssertionSuccess();
}

TEST(ParseManifest, Rule1TextSize) {
  std::string text = doc("[]");
  text.resize(kMaxJsonBytes, ' ');
  EXPECT_TRUE(parse_manifest(text).ok());
  text.push_back(' ');
  EXPECT_TRUE(fails_at(text, "$"));
}

TEST(ParseManifest, Rule2Depth) {
  auto with_metadata = [](int arrays) {
    return R"({"version": "v1", "nodes": [], "metadata": {"x": )" + std::string(arrays, '[') +
           std::string(arrays, ']') + "}}";
  };
  EXPECT_TRUE(parse_manifest(with_metadata(62)).ok());
  EXPECT_TRUE(fails_at(with_metadata(63), "$"));
}

TEST(ParseManifest, Rule3InvalidJson) {
  Result<Manifest> r = parse_manifest(R"({"version": "v1", "nodes": [],})");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kManifestError);
  EXPECT_EQ(r.status().path(), "$");
  EXPECT_NE(r.status().message().find("line"), std::string::npos);
  EXPECT_TRUE(fails_at("[1,", "$"));  // invalid JSON is reported before "not an object"
}

TEST(ParseManifest, Rule4TopLevelNotAnObject) {
  for (const char* text : {"[]", "\"v1\"", "null", "1"}) EXPECT_TRUE(fails_at(text, "$"));
}

TEST(ParseManifest, Rule5UnknownTopLevelKeyInDocumentOrder) {
  EXPECT_TRUE(fails_at(doc("[]", R"(, "extra": 1)"), "$.extra"));
  // Rule 5 comes before rule 6, and keys are taken in document order (not sorted).
  EXPECT_TRUE(fails_at(R"({"zzz": 1, "version": "v2", "aaa": 2})", "$.zzz"));
  EXPECT_TRUE(fails_at(R"({"version": "v1", "nodes": [], "name": "x", "edges": []})", "$.name"));
}

TEST(ParseManifest, Rule6Version) {
  EXPECT_TRUE(fails_at(R"({"nodes": []})", "$.version"));
  for (const char* v : {"1", "\"v2\"", "\"V1\"", "\"v1 \"", "null", "[\"v1\"]"}) {
    EXPECT_TRUE(fails_at(std::string(R"({"version": )") + v + R"(, "nodes": []})", "$.version"));
  }
  // version is checked before nodes, whatever the key order
  EXPECT_TRUE(fails_at(R"({"nodes": 5, "version": 1})", "$.version"));
}

TEST(ParseManifest, Rule7Metadata) {
  EXPECT_TRUE(fails_at(doc("[]", R"(, "metadata": "fast")"), "$.metadata"));
  EXPECT_TRUE(fails_at(doc("[]", R"(, "metadata": null)"), "$.metadata"));
  EXPECT_TRUE(fails_at(doc("[]", R"(, "metadata": {"name": 5})"), "$.metadata.name"));
  // metadata is checked before nodes
  EXPECT_TRUE(fails_at(R"({"version": "v1", "nodes": 1, "metadata": []})", "$.metadata"));
  Result<Manifest> m = parse_manifest(doc("[]", R"(, "metadata": {"name": "fast", "other": [1]})"));
  ASSERT_TRUE(m.ok()) << m.status().to_string();
  EXPECT_EQ(m->name, "fast");
  ASSERT_TRUE(m->metadata.is_map());
  EXPECT_NE(m->metadata.find("other"), nullptr);  // free-form apart from name
}

TEST(ParseManifest, Rule8Nodes) {
  EXPECT_TRUE(fails_at(R"({"version": "v1"})", "$.nodes"));
  EXPECT_TRUE(fails_at(doc("{}"), "$.nodes"));
  EXPECT_TRUE(fails_at(doc("null"), "$.nodes"));
  EXPECT_TRUE(fails_at(doc("\"a\""), "$.nodes"));
}

TEST(ParseManifest, Rule9NodeNotAnObject) {
  EXPECT_TRUE(fails_at(doc(R"(["a"])"), "$.nodes[0]"));
  EXPECT_TRUE(fails_at(doc(std::string("[") + kNode + R"(, ["a", "b"]])"), "$.nodes[1]"));
  EXPECT_TRUE(fails_at(doc("[null]"), "$.nodes[0]"));
}

TEST(ParseManifest, Rule10UnknownNodeKey) {
  EXPECT_TRUE(fails_at(doc(R"([{"name": "a", "node_type": "PassThroughNode"}])"), "$.nodes[0].name"));
  // unknown keys in document order, and before the id checks
  EXPECT_TRUE(fails_at(doc(R"([{"zz": 1, "id": "", "aa": 2}])"), "$.nodes[0].zz"));
}

TEST(ParseManifest, Rule11Id) {
  EXPECT_TRUE(fails_at(doc(R"([{"node_type": "PassThroughNode"}])"), "$.nodes[0].id"));
  for (const char* id : {"\"\"", "5", "null", "[\"a\"]"}) {
    EXPECT_TRUE(fails_at(doc(std::string(R"([{"id": )") + id + R"(, "node_type": "P"}])"), "$.nodes[0].id"));
  }
  // id before node_type
  EXPECT_TRUE(fails_at(doc(R"([{"node_type": 5, "id": 5}])"), "$.nodes[0].id"));
}

TEST(ParseManifest, Rule12NodeType) {
  EXPECT_TRUE(fails_at(doc(R"([{"id": "a"}])"), "$.nodes[0].node_type"));
  EXPECT_TRUE(fails_at(doc(R"([{"id": "a", "node_type": ""}])"), "$.nodes[0].node_type"));
  EXPECT_TRUE(fails_at(doc(R"([{"id": "a", "node_type": 7}])"), "$.nodes[0].node_type"));
}

TEST(ParseManifest, Rule13Params) {
  for (const char* params : {"[]", "null", "\"x\"", "1"}) {
    EXPECT_TRUE(fails_at(doc(std::string(R"([{"id": "a", "node_type": "T", "params": )") + params + "}]"),
                         "$.nodes[0].params"));
  }
}

TEST(ParseManifest, Rule14CapabilitiesThenHost) {
  EXPECT_TRUE(fails_at(doc(R"([{"id": "a", "node_type": "T", "capabilities": []}])"), "$.nodes[0].capabilities"));
  EXPECT_TRUE(fails_at(doc(R"([{"id": "a", "node_type": "T", "host": 5}])"), "$.nodes[0].host"));
  EXPECT_TRUE(fails_at(doc(R"([{"id": "a", "node_type": "T", "host": null}])"), "$.nodes[0].host"));
  // capabilities is checked before host, whatever the key order; params before both
  EXPECT_TRUE(fails_at(doc(R"([{"id": "a", "node_type": "T", "host": 5, "capabilities": 1}])"),
                       "$.nodes[0].capabilities"));
  EXPECT_TRUE(fails_at(doc(R"([{"id": "a", "node_type": "T", "capabilities": 1, "params": 1}])"),
                       "$.nodes[0].params"));
  Result<Manifest> m = parse_manifest(doc(R"([{"id": "a", "node_type": "T", "host": "", "capabilities": {"gpu": true}}])"));
  ASSERT_TRUE(m.ok()) << m.status().to_string();
  ASSERT_TRUE(m->nodes[0].host.has_value());
  EXPECT_EQ(*m->nodes[0].host, "");  // host may be empty
  EXPECT_EQ(*m->nodes[0].capabilities.find("gpu"), Value::boolean(true));
}

TEST(ParseManifest, Rule15RuntimeHint) {
  for (const char* hint : {"\"Native\"", "\"gpu\"", "null", "1", "\"\""}) {
    EXPECT_TRUE(fails_at(doc(std::string(R"([{"id": "a", "node_type": "T", "runtime_hint": )") + hint + "}]"),
                         "$.nodes[0].runtime_hint"));
  }
  Result<Manifest> m = parse_manifest(doc(
      R"([{"id": "a", "node_type": "T", "runtime_hint": "native"}, {"id": "b", "node_type": "T", "runtime_hint": "python"},
          {"id": "c", "node_type": "T", "runtime_hint": "auto"}, {"id": "d", "node_type": "T"}])"));
  ASSERT_TRUE(m.ok()) << m.status().to_string();
  EXPECT_EQ(m->nodes[0].runtime_hint, RuntimeHint::kNative);
  EXPECT_EQ(m->nodes[1].runtime_hint, RuntimeHint::kPython);
  EXPECT_EQ(m->nodes[2].runtime_hint, RuntimeHint::kAuto);
  EXPECT_EQ(m->nodes[3].runtime_hint, RuntimeHint::kAuto);
}

TEST(ParseManifest, Rule16Connections) {
  for (const char* c : {"{}", "null", "\"a->b\""}) {
    EXPECT_TRUE(fails_at(doc("[]", std::string(R"(, "connections": )") + c), "$.connections"));
  }
}

TEST(ParseManifest, Rule17Connection) {
  const std::string nodes = std::string("[") + kNode + "]";
  auto with = [&](const std::string& connections) {
    return doc(nodes, R"(, "connections": )" + connections);
  };
  EXPECT_TRUE(fails_at(with(R"(["a"])"), "$.connections[0]"));
  EXPECT_TRUE(fails_at(with(R"([{"from": "a", "to": "a"}, ["a", "a"]])"), "$.connections[1]"));
  EXPECT_TRUE(fails_at(with(R"([{"source": "a", "target": "a"}])"), "$.connections[0].source"));
  EXPECT_TRUE(fails_at(with(R"([{"to": "a"}])"), "$.connections[0].from"));
  EXPECT_TRUE(fails_at(with(R"([{"from": null, "to": "a"}])"), "$.connections[0].from"));
  EXPECT_TRUE(fails_at(with(R"([{"from": "a", "to": ""}])"), "$.connections[0].to"));
  EXPECT_TRUE(fails_at(with(R"([{"from": "a", "to": 1}])"), "$.connections[0].to"));
  EXPECT_TRUE(fails_at(with(R"([{"from": "a"}])"), "$.connections[0].to"));
  // an unknown key beats a missing `to`; `from` is checked before `to`
  EXPECT_TRUE(fails_at(with(R"([{"from": "a", "weight": 1}])"), "$.connections[0].weight"));
  EXPECT_TRUE(fails_at(with(R"([{"to": 1, "from": 2}])"), "$.connections[0].from"));
}

TEST(ParseManifest, ChecksRunNodeByNodeThenConnections) {
  // A bad runtime_hint in node 0 wins over a missing id in node 1 (node-major order).
  EXPECT_TRUE(fails_at(doc(R"([{"id": "a", "node_type": "T", "runtime_hint": "x"}, {"node_type": "T"}])"),
                       "$.nodes[0].runtime_hint"));
  // Node checks come before connection checks, even when connections is listed first.
  EXPECT_TRUE(fails_at(R"({"version": "v1", "connections": 5, "nodes": [{"id": ""}]})", "$.nodes[0].id"));
  // Structural faults win over semantic ones: a later structural fault beats a duplicate id.
  EXPECT_TRUE(fails_at(doc(R"([{"id": "a", "node_type": "T"}, {"id": "a", "node_type": "T"}, {"id": "c"}])"),
                       "$.nodes[2].node_type"));
}

TEST(ParseManifest, AbsentAndEmptyConnectionsDiffer) {
  Result<Manifest> absent = parse_manifest(doc(std::string("[") + kNode + "]"));
  ASSERT_TRUE(absent.ok());
  EXPECT_FALSE(absent->connections.has_value());
  Result<Manifest> empty = parse_manifest(doc(std::string("[") + kNode + "]", R"(, "connections": [])"));
  ASSERT_TRUE(empty.ok());
  ASSERT_TRUE(empty->connections.has_value());
  EXPECT_TRUE(empty->connections->empty());
}

TEST(ParseManifest, ValidDocumentFields) {
  Result<Manifest> m = parse_manifest(R"({
    "version": "v1",
    "metadata": {"name": "fast"},
    "nodes": [
      {"id": "p1", "node_type": "PassThroughNode", "params": {}},
      {"id": "calc", "node_type": "CalculatorNode", "params": {"operation": "add", "operand": 5}}
    ],
    "connections": [{"from": "p1", "to": "calc"}]
  })");
  ASSERT_TRUE(m.ok()) << m.status().to_string();
  EXPECT_EQ(m->version, "v1");
  EXPECT_EQ(m->name, "fast");
  ASSERT_EQ(m->nodes.size(), 2u);
  EXPECT_EQ(m->nodes[1].id, "calc");
  EXPECT_EQ(m->nodes[1].node_type, "CalculatorNode");
  EXPECT_EQ(*m->nodes[1].params.find("operand"), Value::integer(5));
  EXPECT_TRUE(m->nodes[0].params.is_map());
  EXPECT_FALSE(m->nodes[0].host.has_value());
  EXPECT_TRUE(m->nodes[0].capabilities.is_null());
  ASSERT_EQ(m->connections->size(), 1u);
  EXPECT_EQ((*m->connections)[0].from, "p1");
  EXPECT_EQ((*m->connections)[0].to, "calc");
  // params absent: an empty map
  Result<Manifest> bare = parse_manifest(doc(std::string("[") + kNode + "]"));
  ASSERT_TRUE(bare.ok());
  ASSERT_TRUE(bare->nodes[0].params.is_map());
  EXPECT_TRUE(bare->nodes[0].params.as_map().empty());
  EXPECT_TRUE(bare->name.empty());
  // Nothing is trimmed or case-folded; semantic checks (unknown type) are not parse_manifest's.
  Result<Manifest> odd = parse_manifest(doc(R"([{"id": " a ", "node_type": "passthroughnode"}])"));
  ASSERT_TRUE(odd.ok());
  EXPECT_EQ(odd->nodes[0].id, " a ");
}

// docs/MANIFEST.md, "Paths": a key that is not an identifier is written ["key"].
TEST(ParseManifest, NonIdentifierKeysAreQuotedInPaths) {
  EXPECT_TRUE(fails_at(doc("[]", R"(, "bad key": 1)"), "$[\"bad key\"]"));
  EXPECT_TRUE(fails_at(doc("[]", R"(, "": 1)"), "$[\"\"]"));
  EXPECT_TRUE(fails_at(doc(R"([{"id": "a", "node_type": "T", "op-code": 1}])"), "$.nodes[0][\"op-code\"]"));
  EXPECT_TRUE(fails_at(doc(R"([{"id": "a", "node_type": "T"}])", R"(, "connections": [{"from": "a", "to": "a", "2": 0}])"),
                       "$.connections[0][\"2\"]"));
}

// docs/SEMANTICS.md, "Error messages": one quoting rule for names and strings, as
// remotemedia.errors.quoted writes them.
TEST(Quote, EscapesBackslashQuoteAndControlCharactersOnly) {
  EXPECT_EQ(quote("a"), "'a'");
  EXPECT_EQ(quote(""), "''");
  EXPECT_EQ(quote("a'b"), R"('a\'b')");
  EXPECT_EQ(quote("a\"b"), "'a\"b'");
  EXPECT_EQ(quote("a\\b"), R"('a\\b')");
  EXPECT_EQ(quote("x\ny\tz\r"), R"('x\ny\tz\r')");
  EXPECT_EQ(quote(std::string("\x00\x01\x1f\x7f", 4)), R"('\x00\x01\x1f\x7f')");
  EXPECT_EQ(quote("\xc3\xaf" "d \xe2\x82\xac"), "'\xc3\xaf" "d \xe2\x82\xac'");  // UTF-8 as is
}

std::string message_of(const std::string& text) {
  Result<Manifest> r = parse_manifest(text);
  return r.ok() ? "accepted" : r.status().message();
}

// The words are the Python parser's (tests/python/system/test_manifest_wording.py holds both to them).
TEST(ParseManifest, MessagesNameWhatIsAllowedAndQuoteWhatWasGiven) {
  EXPECT_EQ(message_of(doc("[]", R"(, "edges": 1)")),
            "unknown top-level key 'edges' (allowed: version, metadata, nodes, connections)");
  EXPECT_EQ(message_of(doc(R"([{"id": "a", "node_type": "T", "it's": 1}])")),
            R"(unknown key 'it\'s' in a node (allowed: id, node_type, params, capabilities, host, runtime_hint))");
  EXPECT_EQ(message_of(doc(R"([{"node_type": "T"}])")), "node 'id' is missing");
  EXPECT_EQ(message_of(doc(R"([{"id": "", "node_type": "T"}])")), "node 'id' must be a non-empty string, got ''");
  EXPECT_EQ(message_of(doc(R"([{"id": 1, "node_type": "T"}])")), "node 'id' must be a non-empty string, got integer");
  EXPECT_EQ(message_of(doc("[]", R"(, "connections": [{"to": "a"}])")), "connection 'from' is missing");
  EXPECT_EQ(message_of(R"({"version": "v\n2", "nodes": []})"), R"(unsupported version 'v\n2' (expected 'v1'))");
  EXPECT_EQ(message_of(R"({"nodes": []})"), "'version' is missing (expected 'v1')");
  EXPECT_EQ(message_of(doc(R"([{"id": "a", "node_type": "T", "runtime_hint": "gpu"}])")),
            "'runtime_hint' must be one of auto, native, python; got 'gpu'");
  EXPECT_EQ(message_of(doc(R"([{"id": "a", "node_type": "T", "runtime_hint": null}])")),
            "'runtime_hint' must be a string, got null");
}

}  // namespace
}  // namespace remotemedia
