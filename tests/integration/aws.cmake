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

# finstream deliver with destination = s3://... and source = kinesis:..., against s3rver
# and kinesalite (skipped when npm cannot install them). aws_tool makes buckets and
# streams and reads a bucket back for comparison with a local lake.
add_executable(aws_tool ${CMAKE_CURRENT_LIST_DIR}/aws/aws_tool.c)
target_link_libraries(aws_tool PRIVATE fin_aws)
fin_script_test(NAME deliver_s3 SCRIPT ${CMAKE_CURRENT_LIST_DIR}/deliver_s3.sh
                LABELS integration TIMEOUT 120)
fin_script_test(NAME deliver_s3_fault SCRIPT ${CMAKE_CURRENT_LIST_DIR}/deliver_s3_fault.sh
                LABELS "integration;fault" TIMEOUT 120)
fin_script_test(NAME deliver_kinesis SCRIPT ${CMAKE_CURRENT_LIST_DIR}/deliver_kinesis.sh
                LABELS integration TIMEOUT 120)
fin_script_test(NAME aws_serve_target SCRIPT ${CMAKE_CURRENT_LIST_DIR}/aws_serve_target.sh
                LABELS integration TIMEOUT 120)
