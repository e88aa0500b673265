// A test executable with exactly 77 failed assertions, linked with the shared Catch main: its
// exit code must be 1 (a failure), never 77 (which CTest reads as "skipped").
#include <catch2/catch.hpp>

TEST_CASE("77 failures", "[fails]") {
    for (int i = 0; i < 77; ++i) CHECK(i < 0);
}
