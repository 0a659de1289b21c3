fin_unit_test(NAME test_stream SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_stream.c LIBS fin_stream)
fin_unit_test(NAME test_reshard SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_reshard.c LIBS fin_stream)
