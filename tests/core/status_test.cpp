// Status / Result plumbing.
#include "core/status.h"

#include <gtest/gtest.h>

namespace rf {
namespace {

Result<int> parse_positive(int v) {
    if (v <= 0) return error("value {} is not positive", v);
    return v;
}

Status twice(int v, int& out) {
    RF_ASSIGN_OR_RETURN(int x, parse_positive(v));
    out = 2 * x;
    return Status::ok();
}

TEST(Status, ResultCarriesValueOrError) {
    EXPECT_TRUE(parse_positive(3).is_ok());
    EXPECT_EQ(parse_positive(3).value(), 3);
    auto bad = parse_positive(-1);
    EXPECT_FALSE(bad.is_ok());
    EXPECT_EQ(bad.message(), "value -1 is not positive");
}

TEST(Status, AssignOrReturnPropagates) {
    int out = 0;
    EXPECT_TRUE(twice(4, out).is_ok());
    EXPECT_EQ(out, 8);
    Status s = twice(0, out);
    EXPECT_FALSE(s.is_ok());
    EXPECT_EQ(s.message(), "value 0 is not positive");
}

}  // namespace
}  // namespace rf
