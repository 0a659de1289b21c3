# After fuzz.cmake (which defines fin_fuzz_target): fragments are read in name order.
fin_fuzz_target(NAME delivery SOURCE ${CMAKE_CURRENT_LIST_DIR}/fuzz_delivery.c LIBS fin_delivery)
target_include_directories(fuzz_delivery PRIVATE ${CMAKE_SOURCE_DIR}/src)
