fin_unit_test(NAME test_delivery SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_delivery.c LIBS fin_delivery)
