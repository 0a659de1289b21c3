fin_unit_test(NAME test_serve SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_serve.c LIBS fin_serve)
