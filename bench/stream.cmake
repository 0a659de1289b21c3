fin_bench(NAME stream SOURCES ${CMAKE_CURRENT_LIST_DIR}/bench_stream.c LIBS fin_stream)
