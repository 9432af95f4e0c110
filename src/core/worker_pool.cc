#include "core/worker_pool.h"

#include <algorithm>

#include "core/thread_name.h"

namespace houston {

WorkerPool::WorkerPool(WorkerPoolOptions options) : options_(std::move(options)) {
  for (int i = 0; i < std::max(1, options_.threads); ++i) {
    threads_.emplace_back([this] {
      NameThisThread(options_.name);
      Loop();
    });
  }
}

WorkerPool::~WorkerPool() { Stop(); }

void WorkerPool::Stop() {
  std::lock_guard stop_lock(stop_mu_);
  std::deque<std::pair<Task, Task>> left;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    left.swap(queue_);
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
  threads_.clear();
  for (auto& [run, cancel] : left) {
    if (cancel) cancel();
  }
}

bool WorkerPool::Submit(Task run, Task cancel) {
  {
    std::lock_guard lock(mu_);
    if (stopping_ || queue_.size() >= options_.capacity) return false;
    queue_.emplace_back(std::move(run), std::move(cancel));
  }
  cv_.notify_one();
  return true;
}

size_t WorkerPool::pending() const {
  std::lock_guard lock(mu_);
  return queue_.size() + running_;
}

bool WorkerPool::stopped() const {
  std::lock_guard lock(mu_);
  return stopping_;
}

void WorkerPool::Loop() {
  for (;;) {
    Task run;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      run = std::move(queue_.front().first);
      queue_.pop_front();
      ++running_;
    }
    run();
    std::lock_guard lock(mu_);
    --running_;
  }
}

}  // namespace houston
