fin_bench(NAME crawl SOURCES ${CMAKE_CURRENT_LIST_DIR}/bench_crawl.c LIBS fin_catalog)
