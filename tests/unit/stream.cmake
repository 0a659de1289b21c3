fin_unit_test(NAME test_stream SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_stream.c LIBS fin_stream)
