fin_unit_test(NAME test_aws_sigv4 SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_aws_sigv4.c LIBS fin_aws)
fin_unit_test(NAME test_aws_client SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_aws_client.c LIBS fin_aws)
fin_unit_test(NAME test_aws_kinesis SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_aws_kinesis.c LIBS fin_delivery fin_aws)
fin_unit_test(NAME test_aws_s3 SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_aws_s3.c LIBS fin_aws)
