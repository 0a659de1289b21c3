fin_unit_test(NAME test_core SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_core.c LIBS fin_core)
