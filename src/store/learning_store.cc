#include "store/learning_store.h"

#include <array>
#include <utility>

namespace houston::store {

namespace {

constexpr std::array<std::pair<PostmortemStatus, std::string_view>, 3> kPostmortemStatuses{{
    {PostmortemStatus::kDraft, "draft"},
    {PostmortemStatus::kInReview, "in_review"},
    {PostmortemStatus::kPublished, "published"},
}};

constexpr std::array<std::pair<ActionItemStatus, std::string_view>, 4> kActionItemStatuses{{
    {ActionItemStatus::kOpen, "open"},
    {ActionItemStatus::kInProgress, "in_progress"},
    {ActionItemStatus::kDone, "done"},
    {ActionItemStatus::kWontDo, "wont_do"},
}};

template <typename E, size_t N>
std::string_view Name(const std::array<std::pair<E, std::string_view>, N>& table, E e) {
  for (const auto& [v, name] : table) {
    if (v == e) return name;
  }
  return "unknown";
}

template <typename E, size_t N>
std::optional<E> Parse(const std::array<std::pair<E, std::string_view>, N>& table,
                       std::string_view s) {
  for (const auto& [v, name] : table) {
    if (name == s) return v;
  }
  return std::nullopt;
}

}  // namespace

std::string_view ToString(PostmortemStatus s) { return Name(kPostmortemStatuses, s); }
std::optional<PostmortemStatus> ParsePostmortemStatus(std::string_view s) {
  return Parse(kPostmortemStatuses, s);
}
std::string_view ToString(ActionItemStatus s) { return Name(kActionItemStatuses, s); }
std::optional<ActionItemStatus> ParseActionItemStatus(std::string_view s) {
  return Parse(kActionItemStatuses, s);
}

}  // namespace houston::store
