#include <algorithm>
#include <array>
#include <utility>

#include "store/store.h"

namespace houston::store {

namespace {

// The one table of audit actions, in AuditAction order.
constexpr std::array<std::pair<AuditAction, std::string_view>, 23> kAuditActions{{
    {AuditAction::kAlertTriggered, "alert.triggered"},
    {AuditAction::kAlertAcknowledged, "alert.acknowledged"},
    {AuditAction::kAlertResolved, "alert.resolved"},
    {AuditAction::kOrgApplied, "org.applied"},
    {AuditAction::kTokenCreated, "token.created"},
    {AuditAction::kTokenRevoked, "token.revoked"},
    {AuditAction::kOverrideCreated, "schedule.override_created"},
    {AuditAction::kCoverRequested, "schedule.cover_requested"},
    {AuditAction::kCoverAccepted, "schedule.cover_accepted"},
    {AuditAction::kOverrideCancelled, "schedule.override_cancelled"},
    {AuditAction::kUserPasswordSet, "user.password_set"},
    {AuditAction::kUserSignedIn, "user.signed_in"},
    {AuditAction::kUserSignInFailed, "user.sign_in_failed"},
    {AuditAction::kUserSignedOut, "user.signed_out"},
    {AuditAction::kUserSessionsRevoked, "user.sessions_revoked"},
    {AuditAction::kPostmortemCreated, "postmortem.created"},
    {AuditAction::kPostmortemEdited, "postmortem.edited"},
    {AuditAction::kPostmortemPublished, "postmortem.published"},
    {AuditAction::kPostmortemReopened, "postmortem.reopened"},
    {AuditAction::kPostmortemReminded, "postmortem.reminded"},
    {AuditAction::kActionItemCreated, "action_item.created"},
    {AuditAction::kActionItemUpdated, "action_item.updated"},
    {AuditAction::kActionItemReminded, "action_item.reminded"},
}};

constexpr bool InOrder() {
  for (size_t i = 0; i < kAuditActions.size(); ++i) {
    if (static_cast<size_t>(kAuditActions[i].first) != i) return false;
  }
  return true;
}
static_assert(InOrder(), "kAuditActions must list every AuditAction, in order");
static_assert(static_cast<size_t>(AuditAction::kActionItemReminded) + 1 == kAuditActions.size());

}  // namespace

std::string_view ToString(AuditAction a) { return kAuditActions[static_cast<size_t>(a)].second; }

std::optional<AuditAction> ParseAuditAction(std::string_view action) {
  auto it = std::find_if(kAuditActions.begin(), kAuditActions.end(),
                         [&](const auto& e) { return e.second == action; });
  if (it == kAuditActions.end()) return std::nullopt;
  return it->first;
}

}  // namespace houston::store
