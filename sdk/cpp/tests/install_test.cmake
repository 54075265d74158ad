# ctest: installs the build tree into a fresh prefix, then configures, builds
# and runs tests/consumer against it with find_package(plex).
foreach(v BUILD_DIR WORK_DIR CONSUMER_SRC GENERATOR)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "install_test.cmake: ${v} not set")
  endif()
endforeach()
set(prefix "${WORK_DIR}/prefix")
set(cbuild "${WORK_DIR}/consumer-build")
file(REMOVE_RECURSE "${WORK_DIR}")

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  message(STATUS "${out}")
endfunction()

run(${CMAKE_COMMAND} --install "${BUILD_DIR}" --prefix "${prefix}")
if(NOT EXISTS "${prefix}/include/plex/client.hpp")
  message(FATAL_ERROR "headers were not installed")
endif()
run(${CMAKE_COMMAND} -S "${CONSUMER_SRC}" -B "${cbuild}" -G "${GENERATOR}"
    "-DCMAKE_PREFIX_PATH=${prefix}"
    "-DCMAKE_BUILD_TYPE=${BUILD_TYPE}"
    "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}"
    "-DCMAKE_CXX_FLAGS=${CXX_FLAGS}"
    "-DCMAKE_EXE_LINKER_FLAGS=${LINKER_FLAGS}")
run(${CMAKE_COMMAND} --build "${cbuild}")
run("${cbuild}/plex_consumer")
