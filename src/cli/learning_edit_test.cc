// The text `houston postmortem edit` shows in the editor reads back as what it shows, and edits
// come back as the fields, sections and tags a person wrote; mistakes are named by line.
#include "cli/learning_edit.h"

#include <gtest/gtest.h>

namespace houston::cli {
namespace {

TEST(PostmortemEditTest, WhatTheEditorShowsReadsBackUnchanged) {
  PostmortemText t;
  t.owner = "alice";
  t.status = "draft";
  t.factors = {"capacity", "deploy"};
  t.template_sections = {{"what_happened", "What happened", "The story.", "It broke.\nTwice."},
                         {"where_we_got_lucky", "Where we got lucky", "Luck.", ""}};
  std::string text = FormatForEditing(t, "12");
  EXPECT_NE(text.find("## where_we_got_lucky: Where we got lucky\n# Luck.\n"), std::string::npos)
      << text;
  auto back = ParseEditedPostmortem(text);
  ASSERT_TRUE(back) << back.error().ToString();
  EXPECT_EQ(back->owner, "alice");
  EXPECT_EQ(back->status, "draft");
  EXPECT_EQ(back->factors, (std::vector<std::string>{"capacity", "deploy"}));
  EXPECT_FALSE(ParseEditedPostmortem("## what_happened: x\nhi\n")->factors);
  ASSERT_EQ(back->sections.size(), 2u);
  EXPECT_EQ(back->sections[0],
            (std::pair<std::string, std::string>{"what_happened", "It broke.\nTwice."}));
  EXPECT_EQ(back->sections[1].second, "");  // the prompt is a comment, not text
}

TEST(PostmortemEditTest, EditsComeBackAndMistakesAreNamedByLine) {
  auto t = ParseEditedPostmortem(
      "owner: bob\r\nstatus: in_review\nfactors: deploy ,, data\n\n## what_happened: What\n\n"
      "# a comment\nA deploy at 10:02 emptied the pool.\n\n#no-space-is-text\n\n");
  ASSERT_TRUE(t) << t.error().ToString();
  EXPECT_EQ(t->owner, "bob");
  EXPECT_EQ(t->status, "in_review");
  EXPECT_EQ(t->factors, (std::vector<std::string>{"deploy", "data"}));
  ASSERT_EQ(t->sections.size(), 1u);
  EXPECT_EQ(t->sections[0].second, "A deploy at 10:02 emptied the pool.\n\n#no-space-is-text");

  auto bad = ParseEditedPostmortem("owner: bob\nseverity: SEV1\n## two words: x\n");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), StatusCode::kInvalidArgument);
  ASSERT_EQ(bad.error().details().size(), 2u);
  EXPECT_NE(bad.error().details()[0].find("line 2: unknown field 'severity'"), std::string::npos);
  EXPECT_NE(bad.error().details()[1].find("line 3: a section header"), std::string::npos);
}

}  // namespace
}  // namespace houston::cli
