fin_bench(NAME collect SOURCES ${CMAKE_CURRENT_LIST_DIR}/bench_collect.c LIBS fin_collector)
