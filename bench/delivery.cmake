fin_bench(NAME delivery SOURCES ${CMAKE_CURRENT_LIST_DIR}/bench_delivery.c LIBS fin_delivery)
