# cmake -DEXE=<program> -DARGS=<arguments> -DEXPECT=<exit code> -P expect_exit.cmake: runs the
# program and fails unless it exits with exactly that code.
separate_arguments(args UNIX_COMMAND "${ARGS}")
execute_process(COMMAND "${EXE}" ${args} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT "${rc}" STREQUAL "${EXPECT}")
    message(FATAL_ERROR "${EXE} ${ARGS}: exit code ${rc}, expected ${EXPECT}\n${out}${err}")
endif()
message("${EXE} ${ARGS}: exit code ${rc} as expected")
