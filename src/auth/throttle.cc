// The sign-in throttle: failures per user name and per client address over a sliding window.
#include <cmath>

#include "auth/auth.h"

namespace houston::auth {

namespace {

std::string Key(char kind, std::string_view name) {
  std::string k(1, kind);
  k += ':';
  k += name;
  return k;
}

}  // namespace

int SignInThrottle::Wait(Failures& f, int limit, SteadyPoint now) const {
  while (!f.empty() && now - f.front() >= options_.window) f.pop_front();
  if (static_cast<int>(f.size()) < limit) return 0;
  // Room once the oldest failures that put it at the limit have aged out.
  SteadyPoint free_at = f[f.size() - static_cast<size_t>(limit)] + options_.window;
  double seconds = std::chrono::duration<double>(free_at - now).count();
  return std::max(1, static_cast<int>(std::ceil(seconds)));
}

void SignInThrottle::Bound(SteadyPoint now) {
  if (failures_.size() < options_.max_keys) return;
  for (auto it = failures_.begin(); it != failures_.end();) {
    it = it->second.empty() || now - it->second.back() >= options_.window ? failures_.erase(it)
                                                                          : std::next(it);
  }
  // Still full of live entries (a flood of names): forget the first ones rather than grow.
  while (failures_.size() >= options_.max_keys) failures_.erase(failures_.begin());
}

int SignInThrottle::Begin(std::string_view user, std::string_view client) {
  SteadyPoint now = clock_.SteadyNow();
  std::string user_key = Key('u', user), client_key = Key('c', client);
  std::lock_guard lock(mu_);
  int wait = 0;
  if (auto it = failures_.find(user_key); it != failures_.end()) {
    wait = std::max(wait, Wait(it->second, options_.max_failures_per_user, now));
  }
  if (auto it = failures_.find(client_key); it != failures_.end()) {
    wait = std::max(wait, Wait(it->second, options_.max_failures_per_client, now));
  }
  if (wait > 0) return wait;
  Bound(now);
  failures_[user_key].push_back(now);
  failures_[client_key].push_back(now);
  return 0;
}

void SignInThrottle::Succeeded(std::string_view user, std::string_view client) {
  std::lock_guard lock(mu_);
  if (auto it = failures_.find(Key('u', user)); it != failures_.end()) failures_.erase(it);
  if (auto it = failures_.find(Key('c', client)); it != failures_.end()) {
    if (!it->second.empty()) it->second.pop_back();
    if (it->second.empty()) failures_.erase(it);
  }
}

}  // namespace houston::auth
