fin_script_test(NAME serve_slow SCRIPT ${CMAKE_CURRENT_LIST_DIR}/serve_slow.sh LABELS "integration;fault" TIMEOUT 180)
fin_script_test(NAME config_strict SCRIPT ${CMAKE_CURRENT_LIST_DIR}/config_strict.sh LABELS integration TIMEOUT 120)
