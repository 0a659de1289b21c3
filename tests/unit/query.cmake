fin_unit_test(NAME test_query SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_query.c LIBS fin_query fin_catalog)
fin_unit_test(NAME test_query_athena SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_query_athena.c LIBS fin_query fin_catalog)
