fin_unit_test(NAME test_collector SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_collector.c LIBS fin_collector m)
