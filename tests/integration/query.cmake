fin_script_test(NAME query_firehose SCRIPT ${CMAKE_CURRENT_LIST_DIR}/query_firehose.sh LABELS integration TIMEOUT 120)
fin_script_test(NAME query_cli SCRIPT ${CMAKE_CURRENT_LIST_DIR}/query_cli.sh LABELS integration TIMEOUT 120)
fin_script_test(NAME crawl_cli SCRIPT ${CMAKE_CURRENT_LIST_DIR}/crawl_cli.sh LABELS integration TIMEOUT 120)
fin_script_test(NAME crawl_damage SCRIPT ${CMAKE_CURRENT_LIST_DIR}/crawl_damage.sh LABELS integration TIMEOUT 120)
