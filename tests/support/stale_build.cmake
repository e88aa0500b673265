# scripts/test.sh must refuse a build directory that defines fewer tests than the sources
# declare (a stale build/ configured with the tests or the CLI off would otherwise run a few
# tests and pass). Configures a tiny project with two tests in WORKDIR and runs test.sh on it.
#   cmake -DROOT=<source dir> -DWORKDIR=<scratch dir> -P stale_build.cmake
file(REMOVE_RECURSE "${WORKDIR}")
file(MAKE_DIRECTORY "${WORKDIR}/src")
file(WRITE "${WORKDIR}/src/CMakeLists.txt"
     "cmake_minimum_required(VERSION 3.25)\nproject(stale NONE)\nenable_testing()\n"
     "add_test(NAME a COMMAND ${CMAKE_COMMAND} -E true)\nadd_test(NAME b COMMAND ${CMAKE_COMMAND} -E true)\n")
execute_process(COMMAND ${CMAKE_COMMAND} -S "${WORKDIR}/src" -B "${WORKDIR}/build" RESULT_VARIABLE rc OUTPUT_QUIET)
if(NOT rc EQUAL 0)
    message(FATAL_ERROR "cannot configure the scratch project")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -E env TYPEGRAD_SKIP_BOOTSTRAP=1 "TYPEGRAD_BUILD_DIR=${WORKDIR}/build"
                        bash "${ROOT}/scripts/test.sh"
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(rc EQUAL 0)
    message(FATAL_ERROR "scripts/test.sh passed on a build with 2 tests:\n${out}${err}")
endif()
if(NOT err MATCHES "defines 2 tests, fewer than the [0-9]+ the sources declare")
    message(FATAL_ERROR "scripts/test.sh failed without saying why:\n${out}${err}")
endif()
message("scripts/test.sh refused the stale build: ${err}")
