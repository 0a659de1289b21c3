# The AWS edge: a signing tool for the botocore comparison, and tests against local
# S3- and Kinesis-compatible servers (installed from npm by scripts/aws-peers.sh).
add_executable(test_aws_sign_tool ${CMAKE_SOURCE_DIR}/tests/unit/test_aws_sign_tool.c)
target_link_libraries(test_aws_sign_tool PRIVATE fin_aws)
fin_script_test(NAME aws_botocore SCRIPT ${CMAKE_CURRENT_LIST_DIR}/aws_botocore.sh
                LABELS integration TIMEOUT 60)
