fin_bench(NAME sources SOURCES ${CMAKE_CURRENT_LIST_DIR}/bench_sources.c LIBS fin_collector)
