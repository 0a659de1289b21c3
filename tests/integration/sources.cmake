fin_script_test(NAME collect_yahoo SCRIPT ${CMAKE_CURRENT_LIST_DIR}/collect_yahoo.sh LABELS integration TIMEOUT 120)
fin_script_test(NAME collect_csv SCRIPT ${CMAKE_CURRENT_LIST_DIR}/collect_csv.sh LABELS integration TIMEOUT 60)
fin_script_test(NAME collect_replay SCRIPT ${CMAKE_CURRENT_LIST_DIR}/collect_replay.sh LABELS integration TIMEOUT 60)
