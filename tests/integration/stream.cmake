fin_script_test(NAME stream_cli SCRIPT ${CMAKE_CURRENT_LIST_DIR}/stream_cli.sh LABELS integration TIMEOUT 120)
fin_script_test(NAME stream_collect SCRIPT ${CMAKE_CURRENT_LIST_DIR}/stream_collect.sh LABELS integration TIMEOUT 120)
fin_script_test(NAME stream_reshard SCRIPT ${CMAKE_CURRENT_LIST_DIR}/stream_reshard.sh LABELS integration TIMEOUT 120)
