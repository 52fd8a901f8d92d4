# ctest splits a discovered test's name at ';' (a CMake list separator): each half then filters
# doctest to zero cases and passes without running anything. This fails on any such name, so a test
# case cannot silently leave the suite. Run by ctest with -DTESTS=<kvplan_tests>.
execute_process(COMMAND "${TESTS}" --list-test-cases --no-version OUTPUT_VARIABLE listing RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${TESTS} --list-test-cases failed (exit ${rc})")
endif()
string(FIND "${listing}" ";" semicolon)
if(NOT semicolon EQUAL -1)
  string(SUBSTRING "${listing}" 0 ${semicolon} before)
  string(FIND "${before}" "\n" line_start REVERSE)
  math(EXPR line_start "${line_start} + 1")
  string(SUBSTRING "${listing}" ${line_start} 200 name)
  string(REGEX REPLACE "\n.*" "" name "${name}")
  message(FATAL_ERROR "test case name with ';', which ctest splits into cases that run nothing: ${name}")
endif()
