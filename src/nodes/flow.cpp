// The flow family: nodes that group, select, transform and route items (docs/SEMANTICS.md).
#include <memory>
#include <string>
#include <vector>

#include "remotemedia/node.h"
#include "remotemedia/registry.h"

namespace remotemedia {

namespace {

// Emits a list of every `buffer_size` items; at end of input, the remainder (if any).
class BufferNode final : public Node {
 public:
  explicit BufferNode(size_t size) : size_(size) { held_.reserve(size_); }

  Status process(Value item, Emitter& out) override {
    held_.push_back(std::move(item));
    if (held_.size() == size_) emit_held(out);
    return Status::OK();
  }

  Status process_batch(std::vector<Value>& items, std::vector<Value>& out, size_t*) override {
    for (Value& item : items) {
      held_.push_back(std::move(item));
      if (held_.size() == size_) {
        out.push_back(Value::list(std::move(held_)));
        held_ = List();
        held_.reserve(size_);
      }
    }
    return Status::OK();
  }

  Status flush(Emitter& out) override {
    if (!held_.empty()) emit_held(out);
    return Status::OK();
  }

 private:
  void emit_held(Emitter& out) {
    out.emit(Value::list(std::move(held_)));
    held_ = List();
    held_.reserve(size_);
  }

  size_t size_;
  List held_;
};

}  // namespace

void register_flow_nodes(Registry& registry) {
  (void)registry.add(NodeTypeInfo{
      "BufferNode",
      {"Buffer"},
      "Groups items into lists of buffer_size; the remainder is emitted at end of input.",
      {ParamSpec{"buffer_size", ParamType::kInt, true, Value(), {}, "Items per emitted list (at least 1).", 1.0}},
      [](const Value& params) -> Result<std::unique_ptr<Node>> {
        return std::unique_ptr<Node>(
            std::make_unique<BufferNode>(static_cast<size_t>(params.find("buffer_size")->as_int())));
      },
  });
}

}  // namespace remotemedia
