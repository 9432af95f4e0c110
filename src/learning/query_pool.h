// QueryPool: the threads that run analytics queries, so that heavy reads never run on the HTTP
// I/O threads (which also answer intake). A fixed number of threads and a bounded queue: when
// the queue is full, Submit refuses at once and the caller answers 503 with Retry-After.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace houston::learning {

struct QueryPoolOptions {
  int threads = 2;
  size_t capacity = 16;  // queued (not yet running) queries at most
};

// Thread-safe.
class QueryPool {
 public:
  using Task = std::move_only_function<void()>;
  explicit QueryPool(QueryPoolOptions options = {});
  // Waits for the running queries; queued ones are not run: their `cancel` runs instead.
  ~QueryPool();
  QueryPool(const QueryPool&) = delete;
  QueryPool& operator=(const QueryPool&) = delete;

  // Queues `run` for a pool thread. Returns false (and runs neither) when the queue is full or
  // the pool is stopping. `cancel` runs (on the destroying thread) if the pool is destroyed
  // before `run` started.
  bool Submit(Task run, Task cancel);
  // Queued and running queries (for tests and metrics).
  size_t pending() const;

 private:
  void Loop();

  const QueryPoolOptions options_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::pair<Task, Task>> queue_;  // guarded by mu_
  size_t running_ = 0;                       // guarded by mu_
  bool stopping_ = false;                    // guarded by mu_
  std::vector<std::thread> threads_;
};

}  // namespace houston::learning
