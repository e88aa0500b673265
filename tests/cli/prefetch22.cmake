# The trainer asks for the next batch's images while it computes the current one
# (train::prefetch_example). GCC 12 deleted every call of the first version, built on
# __builtin_prefetch, as a call of a const function: no prefetch instruction was left in the
# executable, and the shuffled reads waited on DRAM (issue 22). This test fails when the
# executable holds no prefetch instruction again.
#   cmake -DEXE=<typegrad> -DOBJDUMP=<objdump> -DOUT=<file> -P prefetch22.cmake
execute_process(COMMAND ${OBJDUMP} -d --no-show-raw-insn ${EXE} OUTPUT_FILE ${OUT} RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${OBJDUMP} -d ${EXE} failed (${rc})")
endif()
file(STRINGS ${OUT} hits REGEX "prefetcht0")
file(REMOVE ${OUT})
list(LENGTH hits n)
if(n EQUAL 0)
    message(FATAL_ERROR "${EXE}: no prefetcht0 instruction: the trainer's prefetch of the next batch was compiled away")
endif()
message(STATUS "${EXE}: ${n} prefetcht0 instructions")
