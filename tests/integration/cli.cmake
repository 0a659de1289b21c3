fin_script_test(NAME cli_basics SCRIPT ${CMAKE_CURRENT_LIST_DIR}/cli_basics.sh LABELS integration)
fin_script_test(NAME cli_interrupt SCRIPT ${CMAKE_CURRENT_LIST_DIR}/cli_interrupt.sh LABELS integration TIMEOUT 300)
fin_script_test(NAME cli_scripting SCRIPT ${CMAKE_CURRENT_LIST_DIR}/cli_scripting.sh LABELS integration TIMEOUT 300)
fin_script_test(NAME docs_commands SCRIPT ${CMAKE_CURRENT_LIST_DIR}/docs_commands.sh LABELS integration TIMEOUT 600)
