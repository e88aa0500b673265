# Installs the built typegrad into a scratch prefix, then configures, builds and runs the
# downstream project against it with find_package(typegrad); and, when the CLI is installed, has
# the installed typegrad compile a network on first use against the installed headers.
# Arguments: BUILD_DIR (typegrad's build tree), SOURCE (the downstream project), WORK (scratch).
file(REMOVE_RECURSE ${WORK})
execute_process(COMMAND ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${WORK}/prefix
    RESULT_VARIABLE rc COMMAND_ECHO STDOUT)
if(NOT rc EQUAL 0)
    message(FATAL_ERROR "installing typegrad failed")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -S ${SOURCE} -B ${WORK}/build -DCMAKE_BUILD_TYPE=Release
        -DCMAKE_PREFIX_PATH=${WORK}/prefix
    RESULT_VARIABLE rc COMMAND_ECHO STDOUT)
if(NOT rc EQUAL 0)
    message(FATAL_ERROR "configuring the downstream project failed")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} --build ${WORK}/build RESULT_VARIABLE rc COMMAND_ECHO STDOUT)
if(NOT rc EQUAL 0)
    message(FATAL_ERROR "building the downstream project failed")
endif()
execute_process(COMMAND ${WORK}/build/downstream RESULT_VARIABLE rc COMMAND_ECHO STDOUT)
if(NOT rc EQUAL 0)
    message(FATAL_ERROR "the downstream program failed")
endif()

# The installed CLI compiles a network that is not in its menu against the installed headers
# (PREFIX/include, PREFIX/share/typegrad/cli), found beside the executable.
if(EXISTS ${WORK}/prefix/bin/typegrad)
    set(ENV{TYPEGRAD_CACHE_DIR} ${WORK}/cache)
    execute_process(COMMAND ${WORK}/prefix/bin/typegrad derive --net 784-7:tanh-10:softmax
        RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
    if(NOT rc EQUAL 0 OR NOT err MATCHES "compiled 784-7:tanh-10:softmax in" OR NOT out MATCHES "typegrad derive: 784-7:tanh-10:softmax")
        message(FATAL_ERROR "the installed typegrad did not compile a network on first use (exit ${rc}):\n${out}\n${err}")
    endif()
    message(STATUS "installed typegrad compiled a network on first use: ${err}")
endif()
