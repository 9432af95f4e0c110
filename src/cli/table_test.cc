#include "cli/table.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <sstream>

namespace houston::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// The words of `text`, in order, whatever the line breaks.
std::string Words(const std::string& text) {
  std::istringstream in(text);
  std::string out;
  for (std::string w; in >> w;) out += (out.empty() ? "" : " ") + w;
  return out;
}

const std::string kReason =
    "payments-db changed 10 min before impact started; checkout depends on payments-db (1 hop), "
    "deployed by terraform";

TEST(TableTest, WideTerminalShowsEveryCellWhole) {
  std::string t = FormatTable({"CHANGE", "SCORE", "WHY"}, {{"7", "0.49", kReason}}, 0);
  EXPECT_THAT(Lines(t), ElementsAre("CHANGE  SCORE  WHY", "7       0.49   " + kReason));
  EXPECT_EQ(t, FormatTable({"CHANGE", "SCORE", "WHY"}, {{"7", "0.49", kReason}}, 500));
}

TEST(TableTest, NarrowTerminalWrapsLongCellsInsteadOfCuttingThem) {
  std::string t = FormatTable({"CHANGE", "SCORE", "SUMMARY", "WHY"},
                              {{"7", "0.49", "Raise payments-db pool size", kReason},
                               {"8", "0.2", "short", "short reason"}},
                              60);
  auto lines = Lines(t);
  ASSERT_GT(lines.size(), 3u) << t;
  for (const auto& l : lines) {
    EXPECT_LE(DisplayWidth(l), 60u) << t;
    EXPECT_TRUE(l.empty() || l.back() != ' ') << "trailing space in '" << l << "'";
  }
  EXPECT_EQ(lines[0].substr(0, 15), "CHANGE  SCORE  ");
  EXPECT_EQ(lines[1].substr(0, 15), "7       0.49   ");
  // Nothing is lost, and nothing is cut with "...": the WHY column of the first row (up to the
  // second row) holds the whole reason.
  size_t why_col = lines[0].find("WHY");
  std::string why_text;
  for (size_t i = 1; i < lines.size() && !lines[i].starts_with("8 "); ++i) {
    if (lines[i].size() > why_col) why_text += lines[i].substr(why_col) + " ";
  }
  EXPECT_EQ(Words(why_text), Words(kReason)) << t;
  EXPECT_THAT(t, Not(HasSubstr("...")));
  // Continuation lines leave the earlier columns blank and keep the wrapped column aligned.
  size_t why = lines[0].find("WHY");
  EXPECT_EQ(lines[1].find("payments-db changed"), why) << t;
  EXPECT_EQ(lines[2].substr(0, 15), std::string(15, ' '));
  // The second row starts on its own line after the first row's continuations.
  bool second = false;
  for (const auto& l : lines) second = second || l.starts_with("8       0.2    short");
  EXPECT_TRUE(second) << t;
}

TEST(TableTest, CellNewlinesAndOverlongWordsWrap) {
  std::string t = FormatTable({"ID", "DETAILS"}, {{"1", "first line\nsecond line"}}, 0);
  EXPECT_THAT(Lines(t), ElementsAre("ID  DETAILS", "1   first line", "    second line"));
  EXPECT_THAT(WrapText("aaaaaaaaaaaa bb", 5), ElementsAre("aaaaa", "aaaaa", "aa bb"));
  // UTF-8: a code point is one cell and is never split.
  EXPECT_THAT(WrapText("ééééé ü", 3), ElementsAre("ééé", "éé", "ü"));
  EXPECT_THAT(WrapText("ééééé ü", 4), ElementsAre("éééé", "é ü"));
  EXPECT_EQ(DisplayWidth("déjà vu"), 7u);
}

TEST(TableTest, ShortRowsArePadded) {
  EXPECT_THAT(Lines(FormatTable({"A", "B"}, {{"x"}}, 0)), ElementsAre("A  B", "x"));
}

TEST(TableTest, NumbersArePlainDecimals) {
  EXPECT_EQ(PlainNumber(0.486), "0.49");
  EXPECT_EQ(PlainNumber(3.0), "3");
  EXPECT_EQ(PlainNumber(0.000012, 2), "0");
  EXPECT_EQ(PlainNumber(1234567.26, 1), "1234567.3");
  EXPECT_EQ(PlainNumber(-0.001), "0");
}

TEST(TableTest, WidthComesFromColumns) {
  setenv("COLUMNS", "72", 1);
  EXPECT_EQ(TableWidth(), 72u);
  setenv("COLUMNS", "junk", 1);
  size_t fallback = TableWidth();  // the terminal's, or 0 when stdout is not one
  unsetenv("COLUMNS");
  EXPECT_EQ(TableWidth(), fallback);
}

}  // namespace
}  // namespace houston::cli
