fin_bench(NAME aws SOURCES ${CMAKE_CURRENT_LIST_DIR}/bench_aws.c LIBS fin_aws)
