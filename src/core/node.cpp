#include "remotemedia/node.h"

namespace remotemedia {

Status Node::process_batch(std::vector<Value>& items, std::vector<Value>& out, size_t* failed_at) {
  VectorEmitter emitter(out);
  for (size_t i = 0; i < items.size(); ++i) {
    Status s = process(std::move(items[i]), emitter);
    if (!s.ok()) {
      *failed_at = i;
      return s;
    }
  }
  return Status::OK();
}

Status Node::process_column(const Ref<NDArray>&, Ref<NDArray>*, size_t*) {
  return Status(StatusCode::kNotImplemented, "no column path");
}

}  // namespace remotemedia
