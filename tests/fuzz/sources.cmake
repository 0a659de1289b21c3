# The collector's source parsers (fin_fuzz_target comes from fuzz.cmake, read before this file).
fin_fuzz_target(NAME yahoo SOURCE ${CMAKE_CURRENT_LIST_DIR}/fuzz_yahoo.c LIBS fin_collector)
fin_fuzz_target(NAME csv SOURCE ${CMAKE_CURRENT_LIST_DIR}/fuzz_csv.c LIBS fin_collector)
target_include_directories(fuzz_yahoo PRIVATE ${CMAKE_SOURCE_DIR}/src)
target_include_directories(fuzz_csv PRIVATE ${CMAKE_SOURCE_DIR}/src)
