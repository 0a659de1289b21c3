fin_script_test(NAME cli_basics SCRIPT ${CMAKE_CURRENT_LIST_DIR}/cli_basics.sh LABELS integration)
fin_script_test(NAME cli_interrupt SCRIPT ${CMAKE_CURRENT_LIST_DIR}/cli_interrupt.sh LABELS integration TIMEOUT 300)
