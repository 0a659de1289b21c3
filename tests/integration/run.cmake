fin_script_test(NAME run_pipeline SCRIPT ${CMAKE_CURRENT_LIST_DIR}/run_pipeline.sh LABELS integration)
