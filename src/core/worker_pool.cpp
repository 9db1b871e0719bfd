#include "remotemedia/worker_pool.h"

#include <algorithm>

namespace remotemedia {

namespace {
WorkerPool::ThreadHooks& shared_hooks() {
  static WorkerPool::ThreadHooks hooks;
  return hooks;
}
}  // namespace

WorkerPool::WorkerPool(size_t threads, ThreadHooks hooks) : size_(std::max<size_t>(threads, 1)), hooks_(std::move(hooks)) {}

WorkerPool::~WorkerPool() { shutdown(); }

WorkerPool& WorkerPool::shared() {
  static WorkerPool* pool = new WorkerPool(std::max(2u, std::thread::hardware_concurrency()), shared_hooks());
  return *pool;
}

void WorkerPool::set_shared_hooks(ThreadHooks hooks) { shared_hooks() = std::move(hooks); }

void WorkerPool::start_locked() {
  started_ = true;
  for (size_t i = 0; i < size_; ++i) threads_.emplace_back([this] { work(); });
}

void WorkerPool::submit(std::function<void()> task) {
  {
    std::unique_lock lock(mutex_);
    if (!stopping_) {
      if (!started_) start_locked();
      tasks_.push_back(std::move(task));
      ready_.notify_one();
      return;
    }
  }
  task();  // after shutdown: the caller runs it
}

void WorkerPool::shutdown() {
  std::vector<std::thread> threads;
  {
    std::unique_lock lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
    threads.swap(threads_);
  }
  ready_.notify_all();
  for (std::thread& t : threads) t.join();
}

void WorkerPool::work() {
  if (hooks_.on_start) hooks_.on_start();
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock lock(mutex_);
      ready_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
      if (tasks_.empty()) break;  // stopping, and nothing left to do
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    task();
  }
  if (hooks_.on_stop) hooks_.on_stop();
}

}  // namespace remotemedia
