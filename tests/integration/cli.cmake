fin_script_test(NAME cli_basics SCRIPT ${CMAKE_CURRENT_LIST_DIR}/cli_basics.sh LABELS integration)
