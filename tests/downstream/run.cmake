# Installs the built typegrad into a scratch prefix, then configures, builds and runs the
# downstream project against it with find_package(typegrad).
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
