// The one Catch2 main shared by every test executable (compiled once).
//
// Catch2 2.13's own main returns the number of failed assertions (at most 255). CTest treats
// exit code 77 as "skipped" for every test (SKIP_RETURN_CODE 77, tests/CMakeLists.txt), so a test
// with exactly 77 failures would be reported as skipped and the run would pass. Here every
// failure is exit code 1; 77 stays for tests that skip deliberately (they have their own main,
// OWN_MAIN). The tests in tests/support/ check this (test_catch_main_*).
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

int main(int argc, char* argv[]) {
    const int failures = Catch::Session().run(argc, argv);
    return failures == 0 ? 0 : 1;
}
