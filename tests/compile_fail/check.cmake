# Compiles SRC twice: with -DTYPEGRAD_CONTROL it must compile (so the test fails for the
# intended reason only), without it must fail with exactly one error matching EXPECT.
# Arguments: CXX, SRC, INCLUDE, EXPECT.
set(flags -std=c++20 -fsyntax-only -I${INCLUDE})
execute_process(COMMAND ${CXX} ${flags} -DTYPEGRAD_CONTROL ${SRC}
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(NOT rc EQUAL 0)
    message(FATAL_ERROR "the control build of ${SRC} does not compile:\n${out}")
endif()
execute_process(COMMAND ${CXX} ${flags} ${SRC}
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(rc EQUAL 0)
    message(FATAL_ERROR "${SRC} compiled, but it must not")
endif()
if(NOT out MATCHES "${EXPECT}")
    message(FATAL_ERROR "the compiler's message does not match '${EXPECT}':\n${out}")
endif()
string(REGEX MATCHALL "error: " errors "${out}")
list(LENGTH errors n)
if(NOT n EQUAL 1)
    message(FATAL_ERROR "expected one error, the compiler printed ${n}:\n${out}")
endif()
message(STATUS "failed to compile as intended, with one error:\n${out}")
