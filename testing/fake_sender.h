// FakeSender: a notify::Sender that records messages and answers with scripted outcomes.
#pragma once

#include <deque>
#include <mutex>
#include <vector>

#include "notify/notify.h"

namespace houston::testing {

// Thread-safe.
class FakeSender final : public notify::Sender {
 public:
  struct Sent {
    notify::Channel channel;
    notify::Message message;
  };
  notify::Delivery Send(const notify::Channel& channel, const notify::Message& message) override {
    std::lock_guard lock(mu_);
    sent_.push_back({channel, message});
    if (script_.empty()) return {notify::Outcome::kSent, 200, "ok", std::nullopt};
    notify::Delivery d = script_.front();
    script_.pop_front();
    return d;
  }
  // The next sends answer these outcomes, in order; then kSent.
  void Script(std::vector<notify::Outcome> outcomes) {
    std::lock_guard lock(mu_);
    for (auto o : outcomes) script_.push_back({o, 0, "scripted", std::nullopt});
  }
  std::vector<Sent> sent() const {
    std::lock_guard lock(mu_);
    return sent_;
  }
  size_t count() const {
    std::lock_guard lock(mu_);
    return sent_.size();
  }
  void Clear() {
    std::lock_guard lock(mu_);
    sent_.clear();
  }

 private:
  mutable std::mutex mu_;
  std::vector<Sent> sent_;
  std::deque<notify::Delivery> script_;
};

}  // namespace houston::testing
