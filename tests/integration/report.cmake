fin_script_test(NAME report_cli SCRIPT ${CMAKE_CURRENT_LIST_DIR}/report.sh LABELS integration TIMEOUT 300)
