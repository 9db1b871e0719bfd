// Node: the unit of processing. A node instance belongs to one run or one session, so its state
// needs no locks; the runtime calls open, then process / process_batch / process_column for every
// item in order, then flush at end of input (only if no error occurred), then close: always, for
// every node whose open succeeded, in reverse order.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "remotemedia/status.h"
#include "remotemedia/value.h"

namespace remotemedia {

// Where a node's outputs go. In a batch run they are appended to a vector; in a push run they travel
// downstream at once (depth-first).
class Emitter {
 public:
  virtual ~Emitter() = default;
  // On the node's first (usually only) output port.
  virtual void emit(Value item) = 0;
  // On output port `port` (an index into the node's output_ports). Only graph runs route ports;
  // nodes with several ports never run in the chain fast path, whose emitters ignore the port.
  virtual void emit_to(size_t port, Value item) {
    (void)port;
    emit(std::move(item));
  }
};

class VectorEmitter final : public Emitter {
 public:
  explicit VectorEmitter(std::vector<Value>& out) : out_(out) {}
  void emit(Value item) override { out_.push_back(std::move(item)); }

 private:
  std::vector<Value>& out_;
};

class Node {
 public:
  virtual ~Node() = default;

  virtual Status open() { return Status::OK(); }

  // Processes one item, emitting zero or more outputs. A returned error concerns this item.
  virtual Status process(Value item, Emitter& out) = 0;

  // Processes `items` in order, appending outputs to `out` (it may consume `items` or reuse its
  // storage). On failure it returns the error and sets *failed_at to the failing item's index, and
  // `out` holds exactly the outputs of the items before it. The default calls process() per item;
  // simple nodes override it to run the whole vector without a virtual call per item.
  virtual Status process_batch(std::vector<Value>& items, std::vector<Value>& out,
                               size_t* failed_at);

  // Column fast path: `column` is a 1-D array whose elements are the items (numpy scalars). A node
  // that can process it element-wise sets *out to the output column (one element per item) and
  // returns OK; on failure, as process_batch, *out holds the outputs of the elements before
  // *failed_at. Returning kNotImplemented means "not for this dtype": nothing was done, and the
  // runtime boxes the elements and calls process_batch instead.
  virtual Status process_column(const Ref<NDArray>& column, Ref<NDArray>* out,
                                size_t* failed_at);

  // End of input: emit what is still held back.
  virtual Status flush(Emitter& out) {
    (void)out;
    return Status::OK();
  }

  // A failure here replaces the run's result (as an exception in a Python `finally` does).
  virtual Status close() { return Status::OK(); }
};

}  // namespace remotemedia
