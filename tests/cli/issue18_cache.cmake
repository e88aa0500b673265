# Issue 18: the compile cache (src/cli/cache.hpp, jit.cpp) and escaped text, through the executable;
# issue 22: a network compiled as two parts at once (cache22-parts).
add_executable(test_cli_cache18 test_cli_cache18.cpp)
target_link_libraries(test_cli_cache18 PRIVATE typegrad::typegrad typegrad::data Catch2::Catch2 typegrad_catch_main
                      typegrad_internal_flags)
target_compile_definitions(test_cli_cache18 PRIVATE TYPEGRAD_EXE="$<TARGET_FILE:typegrad_cli>"
                                                    TYPEGRAD_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
add_dependencies(test_cli_cache18 typegrad_cli)
foreach(tag cache18-failures cache18-trust cache18-bounds escape18 cache22-parts)
    add_test(NAME cli.issue18.${tag} COMMAND test_cli_cache18 "[${tag}]" -w NoTests)
    set_tests_properties(cli.issue18.${tag} PROPERTIES LABELS "cli;jit" TIMEOUT 900)
endforeach()
