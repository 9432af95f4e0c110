#include "core/json_util.h"

#include <gtest/gtest.h>

namespace houston {
namespace {

TEST(JsonQuote, EscapesQuotesBackslashesAndControlCharacters) {
  EXPECT_EQ(JsonQuote("plain"), "\"plain\"");
  EXPECT_EQ(JsonQuote("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(JsonQuote("l1\nl2\r\t"), "\"l1\\nl2\\r\\t\"");
  EXPECT_EQ(JsonQuote(std::string_view("\x01\x1f\b", 3)), "\"\\u0001\\u001f\\u0008\"");
  EXPECT_EQ(JsonQuote("é ✓ 😀"), "\"é ✓ 😀\"");  // UTF-8 passes through
  EXPECT_EQ(JsonQuote(""), "\"\"");
  std::string out = "[";
  AppendJsonString(out, "x");
  EXPECT_EQ(out, "[\"x\"");
}

}  // namespace
}  // namespace houston
