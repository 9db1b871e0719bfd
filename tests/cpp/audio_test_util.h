// Helpers shared by the audio node tests (tests/cpp/audio_*_test.cpp): one-node graphs run by the
// executor, nodes made from the registry and driven item by item, and audio items built from
// samples.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "remotemedia/audio.h"
#include "remotemedia/executor.h"
#include "remotemedia/graph.h"
#include "remotemedia/json.h"
#include "remotemedia/manifest.h"
#include "remotemedia/node.h"
#include "remotemedia/registry.h"

namespace remotemedia::audio_test {

// A graph of one node `id` of `type` with `params` (JSON), compiled against the global registry.
inline Result<Graph> one_node(const std::string& type, const std::string& params, const std::string& id = "n") {
  RM_ASSIGN_OR_RETURN(Manifest m, parse_manifest(R"({"version": "v1", "nodes": [{"id": ")" + id + R"(", "node_type": ")" +
                                                 type + R"(", "params": )" + params + "}]}"));
  return Graph::compile(m, Registry::global());
}

// The outputs of a one-node graph run on `items`, or its error.
inline Result<std::vector<Value>> run_node(const std::string& type, const std::string& params,
                                           std::vector<Value> items) {
  RM_ASSIGN_OR_RETURN(Graph g, one_node(type, params));
  return run(g, std::move(items));
}

// A node of `type` made by its registry factory from `params_json`, checked as a manifest's
// parameters are (schema, then the type's own check); for tests that drive a node item by item.
inline std::unique_ptr<Node> make_node(const std::string& type, const std::string& params_json) {
  const NodeTypeInfo* info = Registry::global().find(type);
  EXPECT_NE(info, nullptr) << type;
  if (info == nullptr) return nullptr;
  Result<Value> params = Registry::check_params(*info, parse_json(params_json).value(), "$.params");
  EXPECT_TRUE(params.ok()) << params.status().to_string();
  if (info->check) {
    Status s = info->check(*params, "$.params");
    EXPECT_TRUE(s.ok()) << s.to_string();
  }
  Result<std::unique_ptr<Node>> node = info->factory(*params);
  EXPECT_TRUE(node.ok()) << node.status().to_string();
  return std::move(node).value();
}

// Every item through `node`, then flush; the outputs in order (an error fails the test).
inline std::vector<Value> stream(Node& node, const std::vector<Value>& items) {
  std::vector<Value> out;
  VectorEmitter emit(out);
  for (const Value& v : items) {
    Status s = node.process(v, emit);
    EXPECT_TRUE(s.ok()) << s.to_string();
  }
  Status s = node.flush(emit);
  EXPECT_TRUE(s.ok()) << s.to_string();
  return out;
}

inline Value audio_value(Ref<NDArray> samples, int rate, ChannelLayout layout = ChannelLayout::kInterleaved) {
  return Value::audio(AudioBuffer::make(std::move(samples), rate, layout).value());
}

// An audio item of `samples` (in storage order) shaped `shape`.
template <typename T>
Value audio(const std::vector<T>& samples, std::vector<int64_t> shape, int rate = 16000,
            ChannelLayout layout = ChannelLayout::kInterleaved) {
  Ref<NDArray> a = NDArray::allocate(DTypeOf<T>::value, std::move(shape));
  for (size_t i = 0; i < samples.size(); ++i) a->mutable_data_as<T>()[i] = samples[i];
  return audio_value(std::move(a), rate, layout);
}

// The shape of `frames` frames of `channels` channels: 1-D for mono, else (channels, frames) when
// planar and (frames, channels) when interleaved.
inline std::vector<int64_t> audio_shape(int64_t frames, int channels, bool planar) {
  if (channels == 1) return {frames};
  if (planar) return {channels, frames};
  return {frames, channels};
}

// Frames [start, start + n) of a buffer as a new item (copied, like an item from a source).
inline Value frames_of(const AudioBuffer& a, int64_t start, int64_t n) {
  const NDArray& s = *a.samples();
  const size_t bytes = dtype_size(s.dtype());
  const bool planar = s.ndim() == 2 && a.layout() == ChannelLayout::kPlanar;
  std::vector<int64_t> shape = s.shape();
  shape[planar ? 1 : 0] = n;
  Ref<NDArray> out = NDArray::allocate(s.dtype(), shape);
  const auto* src = static_cast<const unsigned char*>(s.data());
  auto* dst = static_cast<unsigned char*>(out->mutable_data());
  if (planar) {
    for (int64_t c = 0; c < a.channels(); ++c) {
      std::memcpy(dst + c * n * bytes, src + (c * a.frames() + start) * bytes, n * bytes);
    }
  } else {
    std::memcpy(dst, src + start * a.channels() * bytes, n * a.channels() * bytes);
  }
  return audio_value(std::move(out), a.sample_rate(), a.layout());
}

}  // namespace remotemedia::audio_test
