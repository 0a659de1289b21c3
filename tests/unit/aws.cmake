fin_unit_test(NAME test_aws_sigv4 SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_aws_sigv4.c LIBS fin_aws)
