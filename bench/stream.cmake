fin_bench(NAME stream SOURCES ${CMAKE_CURRENT_LIST_DIR}/bench_stream.c ${CMAKE_CURRENT_LIST_DIR}/reflog.c LIBS fin_stream)
fin_bench(NAME reflog SOURCES ${CMAKE_CURRENT_LIST_DIR}/reflog.c LIBS fin_core)
target_compile_definitions(bench_reflog PRIVATE REFLOG_MAIN)
