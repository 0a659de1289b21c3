fin_bench(NAME report SOURCES ${CMAKE_CURRENT_LIST_DIR}/bench_report.c LIBS fin_report)
