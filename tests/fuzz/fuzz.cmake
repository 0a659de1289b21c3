# fin_fuzz_target(NAME x SOURCE f.c LIBS ...): a libFuzzer binary when FIN_FUZZ is on
# (clang), otherwise a replay of tests/fuzz/corpus/<x>/ as an ordinary test (label fuzz).
function(fin_fuzz_target)
  cmake_parse_arguments(F "" "NAME;SOURCE" "LIBS" ${ARGN})
  if(FIN_FUZZ)
    add_executable(fuzz_${F_NAME} ${F_SOURCE})
    target_compile_options(fuzz_${F_NAME} PRIVATE -fsanitize=fuzzer)
    target_link_options(fuzz_${F_NAME} PRIVATE -fsanitize=fuzzer)
  else()
    add_executable(fuzz_${F_NAME} ${F_SOURCE} ${CMAKE_SOURCE_DIR}/tests/fuzz/replay_main.c)
  endif()
  target_link_libraries(fuzz_${F_NAME} PRIVATE ${F_LIBS})
  add_test(NAME fuzz_${F_NAME} COMMAND fuzz_${F_NAME} ${CMAKE_SOURCE_DIR}/tests/fuzz/corpus/${F_NAME})
  set_tests_properties(fuzz_${F_NAME} PROPERTIES LABELS "fuzz" TIMEOUT 120)
endfunction()

fin_fuzz_target(NAME framing SOURCE ${CMAKE_CURRENT_LIST_DIR}/fuzz_framing.c LIBS fin_core)
fin_fuzz_target(NAME ini SOURCE ${CMAKE_CURRENT_LIST_DIR}/fuzz_ini.c LIBS fin_core)
fin_fuzz_target(NAME time SOURCE ${CMAKE_CURRENT_LIST_DIR}/fuzz_time.c LIBS fin_collector)
