fin_unit_test(NAME test_sources SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_sources.c LIBS fin_collector)
