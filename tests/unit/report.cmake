fin_unit_test(NAME test_report SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_report.c
              LIBS fin_report PkgConfig::ZLIB Threads::Threads)
fin_unit_test(NAME test_report_data SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_report_data.c
              LIBS fin_report PkgConfig::ZLIB)
