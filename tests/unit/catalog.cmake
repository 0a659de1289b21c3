fin_unit_test(NAME test_catalog SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_catalog.c LIBS fin_catalog PkgConfig::ZLIB)
