# The report's record reading and page (fin_fuzz_target comes from fuzz.cmake, read first).
fin_fuzz_target(NAME report SOURCE ${CMAKE_CURRENT_LIST_DIR}/fuzz_report.c LIBS fin_report)
target_include_directories(fuzz_report PRIVATE ${CMAKE_SOURCE_DIR}/src)
