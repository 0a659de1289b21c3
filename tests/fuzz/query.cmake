# The crawler and catalog (included after fuzz.cmake, which defines fin_fuzz_target).
fin_fuzz_target(NAME crawl SOURCE ${CMAKE_CURRENT_LIST_DIR}/fuzz_crawl.c LIBS fin_catalog)
