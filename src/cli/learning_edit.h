// The text format `houston postmortem edit` puts in the editor and reads back: the human part
// of a postmortem (owner, status, factor tags, sections). Pure functions, unit-tested.
//
//   # comments start with '#' and a space; they are dropped
//   owner: alice
//   status: draft
//   factors: deploy, capacity
//
//   ## what_happened: What happened
//   The text of the section, any number of lines.
#pragma once

#include <boost/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace houston::cli {

struct PostmortemText {
  struct Section {
    std::string id, title, prompt, text;
  };
  std::optional<std::string> owner;                           // "" = nobody
  std::optional<std::string> status;                          // draft | in_review
  std::optional<std::vector<std::string>> factors;            // absent: leave them as they are
  std::vector<std::pair<std::string, std::string>> sections;  // (id, text) as read back
  std::vector<Section> template_sections;                     // what the editor shows
};

// From the API's {"postmortem": {...}} object.
PostmortemText FromPostmortemJson(const boost::json::value& postmortem);
// The text for the editor (sections with their prompts as comments).
std::string FormatForEditing(const PostmortemText& t, std::string_view incident_id);
// Reads the edited text back. InvalidArgument naming the line for an unknown field or a
// malformed header.
Result<PostmortemText> ParseEditedPostmortem(std::string_view text);

}  // namespace houston::cli
