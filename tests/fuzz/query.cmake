# The crawler and catalog (included after fuzz.cmake, which defines fin_fuzz_target).
fin_fuzz_target(NAME crawl SOURCE ${CMAKE_CURRENT_LIST_DIR}/fuzz_crawl.c LIBS fin_catalog)
# The SQL tokenizer of the query engine (statements, Trino's aliases).
fin_fuzz_target(NAME sql SOURCE ${CMAKE_CURRENT_LIST_DIR}/fuzz_sql.c LIBS fin_query)
target_include_directories(fuzz_sql PRIVATE ${CMAKE_SOURCE_DIR}/src/query)
