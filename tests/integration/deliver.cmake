fin_script_test(NAME deliver_basic SCRIPT ${CMAKE_CURRENT_LIST_DIR}/deliver_basic.sh LABELS integration)
