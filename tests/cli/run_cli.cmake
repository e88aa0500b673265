# Runs the typegrad executable once and checks what it did. Used by tests/cli/CMakeLists.txt:
#
#   cmake -DEXE=<typegrad> -DWORKDIR=<fresh dir> -DARGS="train --epochs 2 ..." [checks...] -P run_cli.cmake
#
# The run:
#   EXE                   the executable (required)
#   ARGS                  its arguments, one string split like a shell command line
#   WORKDIR               emptied, created and used as the working directory (default: a temp dir);
#                         relative paths in ARGS and below are relative to it
#   SETUP                 prepares WORKDIR/data before the run:
#                           small_idx      valid IDX files of two 10x10 images (do not fit 784 inputs)
#                           bad_magic      four files named like MNIST's whose content is text
#                           empty_dir      an empty directory
#                           old_metrics    no data dir, but a file m.csv holding "previous run"
#                           text_checkpoint  no data dir, but a text file run.tgck
#                           bad_images     images for predict: blank.pgm (P5) and blank-p2.pgm, 28×28
#                                          black; 27x28.pgm, 16bit.pgm, above.pgm (a sample above
#                                          maxval), truncated.pgm, notes.txt, colour.ppm (P6)
#                           onnx_directory a directory named data.onnx
#   PRE_ARGS              arguments of a run of EXE before the one checked (after SETUP); it must
#                         exit with 0
#   SET_ENV               NAME=VALUE set for the run (TYPEGRAD_DATA is always cleared otherwise)
#   DATA_ENV              name of an environment variable holding a data directory, read now (at
#                         test time): if unset or empty the test is SKIPPED, else "--data <dir>" is
#                         appended to ARGS
# The checks:
#   EXPECT_EXIT           0 (default), nonzero, or an exact exit code; a crash never passes
#   EXPECT_REGEX          must match stdout + stderr
#   ONE_LINE_ERROR        ON (default when the expected exit is not 0): stderr ends with exactly one
#                         line "typegrad: error: ..." and holds nothing else but "data: ..." and
#                         "note: ..." lines
#   FORBID_CR             ON: the output must not contain '\r' (no progress bar without a terminal)
#   FORBID_FILE           this file must not exist after the run
#   CHECK_FILE            this file must exist, and then
#     CHECK_FILE_LINES      ... have this many lines
#     CHECK_FILE_FIRST_LINE ... have this first line, exactly
#     CHECK_FILE_LINE_REGEX ... have every line match this regex (every line after the first if
#                           CHECK_FILE_FIRST_LINE is given)
#   MIN_LAST_ACCURACY     the last "test accuracy X" on stdout must be >= this number
#   CHECK_EXISTS          this file (any content) must exist, with no temporary file beside it
#   POST_ARGS             arguments of a run of EXE after the checks; it must exit with 0 and
#     POST_REGEX            ... its stdout + stderr must match this regex
#
# CMake regular expressions have no {n} repetition: write [0-9][0-9][0-9][0-9] for four digits.
# A skipped test prints "typegrad-cli-test: SKIPPED: <why>" (tests/cli/CMakeLists.txt marks that
# output as a skip with SKIP_REGULAR_EXPRESSION) and exits with 77 where CMake can (3.29+).
cmake_minimum_required(VERSION 3.25)

function(fail why)
    message(FATAL_ERROR "typegrad-cli-test: FAILED: ${why}\n"
                        "command: ${EXE} ${ARGS}\n"
                        "exit code: ${rc}\n"
                        "--- stdout ---\n${out}\n--- stderr ---\n${err}\n---")
endfunction()

macro(skip why)
    message("typegrad-cli-test: SKIPPED: ${why}")
    if(CMAKE_VERSION VERSION_GREATER_EQUAL 3.29)
        cmake_language(EXIT 77)
    endif()
    return()
endmacro()

# Writes bytes given as printf escapes (\ooo octal); CMake strings cannot hold NUL bytes.
function(write_bytes file escapes)
    find_program(PRINTF printf)
    if(NOT PRINTF)
        message(FATAL_ERROR "typegrad-cli-test: no printf program to write binary test data")
    endif()
    execute_process(COMMAND ${PRINTF} "${escapes}" OUTPUT_FILE "${file}" RESULT_VARIABLE r)
    if(NOT r EQUAL 0)
        message(FATAL_ERROR "typegrad-cli-test: printf failed writing ${file}: ${r}")
    endif()
endfunction()

set(rc "(not run)")
set(out "")
set(err "")

if(NOT DEFINED EXE OR EXE STREQUAL "")
    message(FATAL_ERROR "typegrad-cli-test: EXE is not set")
endif()
if(NOT DEFINED WORKDIR OR WORKDIR STREQUAL "")
    string(RANDOM LENGTH 8 suffix)
    set(WORKDIR "$ENV{TMPDIR}")
    if(WORKDIR STREQUAL "")
        set(WORKDIR "/tmp")
    endif()
    set(WORKDIR "${WORKDIR}/typegrad-cli-test-${suffix}")
endif()
if(NOT DEFINED EXPECT_EXIT OR EXPECT_EXIT STREQUAL "")
    set(EXPECT_EXIT 0)
endif()
if(NOT DEFINED ONE_LINE_ERROR OR ONE_LINE_ERROR STREQUAL "")
    if(EXPECT_EXIT STREQUAL "0")
        set(ONE_LINE_ERROR OFF)
    else()
        set(ONE_LINE_ERROR ON)
    endif()
endif()

separate_arguments(args UNIX_COMMAND "${ARGS}")

if(DEFINED DATA_ENV AND NOT DATA_ENV STREQUAL "")
    set(data_dir "$ENV{${DATA_ENV}}")
    if(data_dir STREQUAL "")
        skip("${DATA_ENV} is not set or empty; set it to a directory with the MNIST IDX files to run this test")
    endif()
    list(APPEND args --data "${data_dir}")
    set(ARGS "${ARGS} --data ${data_dir}")
endif()

# --- the working directory and its data ---------------------------------------------------------
file(REMOVE_RECURSE "${WORKDIR}")
file(MAKE_DIRECTORY "${WORKDIR}")
if(DEFINED SETUP AND NOT SETUP STREQUAL "")
    set(d "${WORKDIR}/data")
    if(SETUP STREQUAL "small_idx")
        file(MAKE_DIRECTORY "${d}")
        # IDX3: magic 0x00000803, 2 images, 10 rows, 10 columns, then 200 pixel bytes (0x80)
        string(REPEAT "\\200" 200 pixels)
        set(images "\\000\\000\\010\\003\\000\\000\\000\\002\\000\\000\\000\\012\\000\\000\\000\\012${pixels}")
        # IDX1: magic 0x00000801, 2 labels: 1 and 2
        set(labels "\\000\\000\\010\\001\\000\\000\\000\\002\\001\\002")
        write_bytes("${d}/train-images-idx3-ubyte" "${images}")
        write_bytes("${d}/train-labels-idx1-ubyte" "${labels}")
        write_bytes("${d}/t10k-images-idx3-ubyte" "${images}")
        write_bytes("${d}/t10k-labels-idx1-ubyte" "${labels}")
    elseif(SETUP STREQUAL "bad_magic")
        foreach(f train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte)
            file(WRITE "${d}/${f}" "this is not an IDX file\n")
        endforeach()
    elseif(SETUP STREQUAL "empty_dir")
        file(MAKE_DIRECTORY "${d}")
    elseif(SETUP STREQUAL "old_metrics")
        file(WRITE "${WORKDIR}/m.csv" "previous run\n")
    elseif(SETUP STREQUAL "text_checkpoint")
        file(WRITE "${WORKDIR}/run.tgck" "these are not the weights you are looking for\n")
    elseif(SETUP STREQUAL "bad_images")
        file(MAKE_DIRECTORY "${d}")
        string(REPEAT "\\000" 784 black)
        write_bytes("${d}/blank.pgm" "P5\\n28 28\\n255\\n${black}")
        string(REPEAT "0 " 784 zeros)
        file(WRITE "${d}/blank-p2.pgm" "P2\n# black\n28 28\n255\n${zeros}\n")
        file(WRITE "${d}/27x28.pgm" "P2\n27 28\n255\n0\n")
        file(WRITE "${d}/16bit.pgm" "P2\n28 28\n65535\n0\n")
        file(WRITE "${d}/above.pgm" "P2\n28 28\n15\n16\n")
        string(REPEAT "\\200" 100 some)
        write_bytes("${d}/truncated.pgm" "P5\\n28 28\\n255\\n${some}")
        file(WRITE "${d}/notes.txt" "not an image\n")
        file(WRITE "${d}/colour.ppm" "P6\n28 28\n255\n")
    elseif(SETUP STREQUAL "onnx_directory")
        file(MAKE_DIRECTORY "${WORKDIR}/data.onnx")
    else()
        message(FATAL_ERROR "typegrad-cli-test: unknown SETUP '${SETUP}'")
    endif()
endif()

# --- the run ------------------------------------------------------------------------------------
unset(ENV{TYPEGRAD_DATA})
if(DEFINED PRE_ARGS AND NOT PRE_ARGS STREQUAL "")
    separate_arguments(pre_args UNIX_COMMAND "${PRE_ARGS}")
    execute_process(
        COMMAND "${EXE}" ${pre_args}
        WORKING_DIRECTORY "${WORKDIR}"
        RESULT_VARIABLE rc
        OUTPUT_VARIABLE out
        ERROR_VARIABLE err)
    if(NOT rc EQUAL 0)
        set(ARGS "${PRE_ARGS}")
        fail("the preparing run (PRE_ARGS) failed")
    endif()
endif()
if(DEFINED SET_ENV AND NOT SET_ENV STREQUAL "")
    string(FIND "${SET_ENV}" "=" eq)
    if(eq LESS 1)
        message(FATAL_ERROR "typegrad-cli-test: SET_ENV must be NAME=VALUE, got '${SET_ENV}'")
    endif()
    string(SUBSTRING "${SET_ENV}" 0 ${eq} env_name)
    math(EXPR value_start "${eq} + 1")
    string(SUBSTRING "${SET_ENV}" ${value_start} -1 env_value)
    set(ENV{${env_name}} "${env_value}")
endif()

execute_process(
    COMMAND "${EXE}" ${args}
    WORKING_DIRECTORY "${WORKDIR}"
    RESULT_VARIABLE rc
    OUTPUT_VARIABLE out
    ERROR_VARIABLE err)
set(all "${out}${err}")

# --- the checks ---------------------------------------------------------------------------------
if(NOT rc MATCHES "^[0-9]+$")
    fail("the program did not exit normally")
endif()
if(rc GREATER 125)
    fail("the program was killed or crashed")
endif()
if(EXPECT_EXIT STREQUAL "nonzero")
    if(rc EQUAL 0)
        fail("expected a failure, got exit code 0")
    endif()
elseif(NOT rc EQUAL EXPECT_EXIT)
    fail("expected exit code ${EXPECT_EXIT}")
endif()

if(DEFINED EXPECT_REGEX AND NOT EXPECT_REGEX STREQUAL "")
    if(NOT all MATCHES "${EXPECT_REGEX}")
        fail("the output does not match the regular expression: ${EXPECT_REGEX}")
    endif()
endif()

if(ONE_LINE_ERROR)
    # Without lists: messages may hold ';', which CMake would take for a list separator.
    string(REGEX REPLACE "\n$" "" e "${err}")
    string(REGEX MATCHALL "typegrad: error: " hits "${e}")
    list(LENGTH hits errors)
    string(FIND "${e}" "\n" nl REVERSE)
    if(nl EQUAL -1)
        set(last "${e}")
        set(before "")
    else()
        math(EXPR start "${nl} + 1")
        string(SUBSTRING "${e}" ${start} -1 last)
        string(SUBSTRING "${e}" 0 ${nl} before)
    endif()
    string(FIND "${last}" "typegrad: error: " at)
    if(NOT errors EQUAL 1 OR NOT at EQUAL 0)
        fail("stderr must end with exactly one line 'typegrad: error: ...'")
    endif()
    string(REGEX REPLACE "\n(data|note): [^\n]*" "" others "\n${before}")
    if(NOT others STREQUAL "" AND NOT others STREQUAL "\n")
        fail("stderr has lines that are neither the error nor a data note")
    endif()
endif()

if(FORBID_CR)
    string(FIND "${all}" "\r" cr)
    if(NOT cr EQUAL -1)
        fail("the output contains a carriage return (a progress bar without a terminal?)")
    endif()
endif()

if(DEFINED FORBID_FILE AND NOT FORBID_FILE STREQUAL "")
    if(EXISTS "${WORKDIR}/${FORBID_FILE}" OR EXISTS "${FORBID_FILE}")
        fail("${FORBID_FILE} exists but must not")
    endif()
    file(GLOB leftovers "${WORKDIR}/${FORBID_FILE}.tmp-*")
    if(leftovers)
        fail("temporary files were left behind: ${leftovers}")
    endif()
endif()

if(DEFINED CHECK_FILE AND NOT CHECK_FILE STREQUAL "")
    set(path "${WORKDIR}/${CHECK_FILE}")
    if(NOT EXISTS "${path}")
        fail("${CHECK_FILE} was not written")
    endif()
    file(GLOB leftovers "${path}.tmp-*")
    if(leftovers)
        fail("temporary files were left behind: ${leftovers}")
    endif()
    file(READ "${path}" content)
    if(NOT content MATCHES "\n$")
        fail("${CHECK_FILE} does not end with a newline:\n${content}")
    endif()
    string(REGEX REPLACE "\n$" "" content "${content}")
    string(REPLACE ";" "<semicolon>" content "${content}")
    string(REPLACE "\n" ";" lines "${content}")
    list(LENGTH lines count)
    if(DEFINED CHECK_FILE_LINES AND NOT CHECK_FILE_LINES STREQUAL "" AND NOT count EQUAL CHECK_FILE_LINES)
        fail("${CHECK_FILE} has ${count} lines, expected ${CHECK_FILE_LINES}:\n${content}")
    endif()
    list(GET lines 0 first)
    if(DEFINED CHECK_FILE_FIRST_LINE AND NOT CHECK_FILE_FIRST_LINE STREQUAL "" AND NOT first STREQUAL CHECK_FILE_FIRST_LINE)
        fail("${CHECK_FILE} starts with '${first}', expected '${CHECK_FILE_FIRST_LINE}'")
    endif()
    if(DEFINED CHECK_FILE_LINE_REGEX AND NOT CHECK_FILE_LINE_REGEX STREQUAL "")
        set(rest ${lines})
        if(DEFINED CHECK_FILE_FIRST_LINE AND NOT CHECK_FILE_FIRST_LINE STREQUAL "")
            list(SUBLIST lines 1 -1 rest)
        endif()
        foreach(line IN LISTS rest)
            if(NOT line MATCHES "${CHECK_FILE_LINE_REGEX}")
                fail("line '${line}' of ${CHECK_FILE} does not match ${CHECK_FILE_LINE_REGEX}")
            endif()
        endforeach()
    endif()
endif()

if(DEFINED MIN_LAST_ACCURACY AND NOT MIN_LAST_ACCURACY STREQUAL "")
    string(REGEX MATCHALL "test accuracy [0-9]+\\.[0-9]+" found "${out}")
    if(NOT found)
        fail("no 'test accuracy X' on stdout")
    endif()
    list(GET found -1 last_line)
    string(REGEX REPLACE "^test accuracy " "" accuracy "${last_line}")
    if(accuracy LESS MIN_LAST_ACCURACY)
        fail("the last epoch's test accuracy ${accuracy} is below ${MIN_LAST_ACCURACY}")
    endif()
    message("last epoch's test accuracy ${accuracy} >= ${MIN_LAST_ACCURACY}")
endif()

if(DEFINED CHECK_EXISTS AND NOT CHECK_EXISTS STREQUAL "")
    if(NOT EXISTS "${WORKDIR}/${CHECK_EXISTS}")
        fail("${CHECK_EXISTS} was not written")
    endif()
    file(GLOB leftovers "${WORKDIR}/${CHECK_EXISTS}.tmp-*")
    if(leftovers)
        fail("temporary files were left behind: ${leftovers}")
    endif()
endif()

if(DEFINED POST_ARGS AND NOT POST_ARGS STREQUAL "")
    separate_arguments(post_args UNIX_COMMAND "${POST_ARGS}")
    set(main_rc "${rc}")
    execute_process(
        COMMAND "${EXE}" ${post_args}
        WORKING_DIRECTORY "${WORKDIR}"
        RESULT_VARIABLE rc
        OUTPUT_VARIABLE out
        ERROR_VARIABLE err)
    set(ARGS "${POST_ARGS}")
    if(NOT rc EQUAL 0)
        fail("the run after the checks (POST_ARGS) failed")
    endif()
    if(DEFINED POST_REGEX AND NOT POST_REGEX STREQUAL "" AND NOT "${out}${err}" MATCHES "${POST_REGEX}")
        fail("the output of the run after the checks (POST_ARGS) does not match the regular expression: ${POST_REGEX}")
    endif()
    set(rc "${main_rc}")
endif()

message("typegrad-cli-test: passed (exit code ${rc})")
