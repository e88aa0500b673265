# Issue 18, item 6: predict's image readers (memory bound on compressed text chunks, alpha and
# transparency in every PNG colour type, the PGM header forms), through the executable.
add_executable(test_cli_images18 test_cli_images18.cpp)
target_link_libraries(test_cli_images18 PRIVATE typegrad::typegrad typegrad::data Catch2::Catch2 typegrad_catch_main typegrad_internal_flags ZLIB::ZLIB)
target_compile_definitions(test_cli_images18 PRIVATE TYPEGRAD_EXE="$<TARGET_FILE:typegrad_cli>")
add_dependencies(test_cli_images18 typegrad_cli)
add_test(NAME cli.issue18.images COMMAND test_cli_images18 "[images18]" -w NoTests)
set_tests_properties(cli.issue18.images PROPERTIES LABELS "cli;io" TIMEOUT 180)
