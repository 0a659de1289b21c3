fin_script_test(NAME serve_boto3 SCRIPT ${CMAKE_CURRENT_LIST_DIR}/serve_boto3.sh LABELS integration TIMEOUT 120)
fin_script_test(NAME serve_awscli SCRIPT ${CMAKE_CURRENT_LIST_DIR}/serve_awscli.sh LABELS integration TIMEOUT 120)
fin_script_test(NAME serve_kill SCRIPT ${CMAKE_CURRENT_LIST_DIR}/serve_kill.sh LABELS "integration;fault" TIMEOUT 120)
fin_script_test(NAME serve_sigv4 SCRIPT ${CMAKE_CURRENT_LIST_DIR}/serve_sigv4.sh LABELS integration TIMEOUT 120)
