#include "store/store.h"

namespace houston::store {

std::string_view ToString(EventOutcome::Kind k) {
  switch (k) {
    case EventOutcome::Kind::kCreated:
      return "created";
    case EventOutcome::Kind::kDeduplicated:
      return "deduplicated";
    case EventOutcome::Kind::kAcknowledged:
      return "acknowledged";
    case EventOutcome::Kind::kResolved:
      return "resolved";
    case EventOutcome::Kind::kUnchanged:
      return "unchanged";
    case EventOutcome::Kind::kDropped:
      return "dropped";
  }
  return "unknown";
}

std::string_view ToString(Role r) {
  switch (r) {
    case Role::kViewer:
      return "viewer";
    case Role::kResponder:
      return "responder";
    case Role::kAdmin:
      return "admin";
  }
  return "viewer";
}

std::optional<Role> ParseRole(std::string_view s) {
  if (s == "viewer") return Role::kViewer;
  if (s == "responder") return Role::kResponder;
  if (s == "admin") return Role::kAdmin;
  return std::nullopt;
}

}  // namespace houston::store
