# Issue 18, defects 1, 5 and 8 (included from CMakeLists.txt): gnuplot never runs text from a file
# name or a metrics file; plot refuses inputs that are not regular files or are too large; plot,
# train --plot and export follow train's output rules (src/cli/outputs.hpp). One CTest test per tag.
add_executable(test_cli_outputs18 test_cli_outputs18.cpp)
target_link_libraries(test_cli_outputs18 PRIVATE typegrad::typegrad typegrad::data Catch2::Catch2 typegrad_catch_main
                      typegrad_internal_flags)
target_compile_definitions(test_cli_outputs18 PRIVATE TYPEGRAD_EXE="$<TARGET_FILE:typegrad_cli>")
add_dependencies(test_cli_outputs18 typegrad_cli)
foreach(tag plot-injection plot-input outputs18)
    add_test(NAME cli.issue18.${tag} COMMAND test_cli_outputs18 "[${tag}]" -w NoTests)
    set_tests_properties(cli.issue18.${tag} PROPERTIES LABELS "cli;io" TIMEOUT 180)
endforeach()
