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

}  // namespace houston::store
