// StopStringMatcher: text is held back exactly while it may still become a stop string.
#include "sampling/stop_string_matcher.h"

#include <gtest/gtest.h>

namespace rf::sampling {
namespace {

TEST(StopStringMatcher, PassesTextThroughWithoutStops) {
    StopStringMatcher m({});
    auto r = m.push("hello ");
    EXPECT_EQ(r.text, "hello ");
    EXPECT_FALSE(r.stopped);
    EXPECT_EQ(m.flush(), "");
}

TEST(StopStringMatcher, StopSplitAcrossPieces) {
    StopStringMatcher m({"world"});
    auto r = m.push("Hello wor");
    EXPECT_EQ(r.text, "Hello ");
    EXPECT_EQ(m.held(), 3u);
    r = m.push("ld and more");
    EXPECT_TRUE(r.stopped);
    EXPECT_EQ(r.text, "");
    EXPECT_EQ(r.stop, "world");
    EXPECT_TRUE(m.push("ignored").text.empty());
}

TEST(StopStringMatcher, ReleasesHeldTextWhenItDiverges) {
    StopStringMatcher m({"</s>"});
    EXPECT_EQ(m.push("a</").text, "a");
    const auto r = m.push("b>");
    EXPECT_FALSE(r.stopped);
    EXPECT_EQ(r.text, "</b>");
}

TEST(StopStringMatcher, StopInsideOnePiece) {
    StopStringMatcher m({"STOP", ""});
    const auto r = m.push("abcSTOPdef");
    EXPECT_TRUE(r.stopped);
    EXPECT_EQ(r.text, "abc");
}

TEST(StopStringMatcher, EarliestStopWins) {
    StopStringMatcher m({"cd", "bc", "b"});
    const auto r = m.push("abcd");
    EXPECT_TRUE(r.stopped);
    EXPECT_EQ(r.text, "a");
    EXPECT_EQ(r.stop, "bc");  // "bc" and "b" both start at 1: the longer one is reported
}

TEST(StopStringMatcher, FlushReturnsHeldText) {
    StopStringMatcher m({"\nUser:"});
    EXPECT_EQ(m.push("Sure.\nUs").text, "Sure.");
    EXPECT_EQ(m.flush(), "\nUs");
    EXPECT_EQ(m.held(), 0u);
}

TEST(StopStringMatcher, OverlappingPrefixesHoldTheLongestCandidate) {
    StopStringMatcher m({"aab"});
    EXPECT_EQ(m.push("xaa").text, "x");
    EXPECT_EQ(m.push("a").text, "a");  // "aaa": only the last "aa" can still grow into "aab"
    const auto r = m.push("b");
    EXPECT_TRUE(r.stopped);
    EXPECT_EQ(r.text, "");
}

TEST(StopStringMatcher, ByteByByteUtf8) {
    StopStringMatcher m({"\xc3\xa9t\xc3\xa9"});  // "été"
    std::string out;
    const std::string text = "un \xc3\xa9t\xc3\xa9 chaud";
    bool stopped = false;
    for (char c : text) {
        auto r = m.push(std::string(1, c));
        out += r.text;
        if (r.stopped) {
            stopped = true;
            break;
        }
    }
    EXPECT_TRUE(stopped);
    EXPECT_EQ(out, "un ");
    m.reset();
    EXPECT_FALSE(m.stopped());
}

}  // namespace
}  // namespace rf::sampling
