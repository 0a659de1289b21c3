fin_unit_test(NAME test_config SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_config.c LIBS fin_core)
fin_unit_test(NAME test_stream_ini SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_stream_ini.c LIBS fin_stream)
fin_unit_test(NAME test_source_input SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_source_input.c LIBS fin_collector)
