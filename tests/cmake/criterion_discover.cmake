# Runs a Criterion binary with --list and writes one add_test per case to OUTPUT.
# Criterion prints "suite: N tests" then "├── name" / "└── name" lines.
execute_process(COMMAND ${TEST_BINARY} --list OUTPUT_VARIABLE out
                ERROR_VARIABLE out RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${TEST_BINARY} --list failed: ${out}")
endif()
string(REPLACE "\n" ";" lines "${out}")
set(content "")
set(suite "")
foreach(line IN LISTS lines)
  if(line MATCHES "^([A-Za-z0-9_]+): [0-9]+ tests?$")
    set(suite ${CMAKE_MATCH_1})
  elseif(line MATCHES "^(├──|└──) ([A-Za-z0-9_]+)")
    set(name ${CMAKE_MATCH_2})
    # --verbose prints "[SKIP] suite::name: reason" when the case skips itself
    # (no test photographs); the pass expression catches a filter that ran nothing.
    string(APPEND content
      "add_test(${PREFIX}.${suite}.${name} \"${TEST_BINARY}\" --filter=${suite}/${name} --jobs=1 --verbose)\n"
      "set_tests_properties(${PREFIX}.${suite}.${name} PROPERTIES TIMEOUT 120\n"
      "  SKIP_REGULAR_EXPRESSION \"\\\\[SKIP\\\\] ${suite}::${name}: \"\n"
      "  PASS_REGULAR_EXPRESSION \"Tested: 1 \\\\| Passing: 1 \"\n"
      "  ENVIRONMENT \"${ENV}\")\n")
  endif()
endforeach()
if(content STREQUAL "")
  message(FATAL_ERROR "${TEST_BINARY} --list listed no tests: ${out}")
endif()
file(WRITE ${OUTPUT} "${content}")
