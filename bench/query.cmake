fin_bench(NAME query SOURCES ${CMAKE_CURRENT_LIST_DIR}/bench_query.c LIBS fin_query fin_catalog fin_collector)
