fin_script_test(NAME collect_sim SCRIPT ${CMAKE_CURRENT_LIST_DIR}/collect_sim.sh LABELS integration)
