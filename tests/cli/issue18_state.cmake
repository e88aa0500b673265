# Issue 18, defect 7: a damaged optimizer state in a --resume checkpoint is refused in one line
# before anything is printed or locked (tests/cli/test_cli_state18.cpp).
add_executable(test_cli_state18 test_cli_state18.cpp)
target_link_libraries(test_cli_state18 PRIVATE typegrad::typegrad typegrad::data Catch2::Catch2 typegrad_catch_main typegrad_internal_flags)
target_compile_definitions(test_cli_state18 PRIVATE TYPEGRAD_EXE="$<TARGET_FILE:typegrad_cli>")
add_dependencies(test_cli_state18 typegrad_cli)
add_test(NAME cli.issue18.state COMMAND test_cli_state18 "[state18]" -w NoTests)
set_tests_properties(cli.issue18.state PROPERTIES LABELS "cli;io" TIMEOUT 180)
