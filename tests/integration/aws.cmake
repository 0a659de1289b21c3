# The AWS edge: a signing tool for the botocore comparison, and tests against local
# S3- and Kinesis-compatible servers (installed from npm by scripts/aws-peers.sh).
add_executable(test_aws_sign_tool ${CMAKE_SOURCE_DIR}/tests/unit/test_aws_sign_tool.c)
target_link_libraries(test_aws_sign_tool PRIVATE fin_aws)
fin_script_test(NAME aws_botocore SCRIPT ${CMAKE_CURRENT_LIST_DIR}/aws_botocore.sh
                LABELS integration TIMEOUT 60)
add_executable(test_aws_peers ${CMAKE_SOURCE_DIR}/tests/unit/test_aws_peers.c)
target_include_directories(test_aws_peers PRIVATE ${CMAKE_SOURCE_DIR}/tests/include)
target_link_libraries(test_aws_peers PRIVATE fin_aws fin_delivery PkgConfig::CMOCKA)
fin_script_test(NAME aws_peers SCRIPT ${CMAKE_CURRENT_LIST_DIR}/aws_peers.sh
                LABELS integration TIMEOUT 240)
fin_script_test(NAME aws_collect SCRIPT ${CMAKE_CURRENT_LIST_DIR}/aws_collect.sh
                LABELS integration TIMEOUT 240)
