# The helper the delivery shell tests drive (feed a stream, put directly, check a lake).
add_executable(delivery_tool ${CMAKE_CURRENT_LIST_DIR}/delivery_tool.c)
target_include_directories(delivery_tool PRIVATE ${CMAKE_SOURCE_DIR}/tests/include)
target_link_libraries(delivery_tool PRIVATE fin_delivery fin_stream fin_query fin_core)

# kill -9 at random moments while delivering, then restart: every record exactly once.
# FIN_FAULT_ITERATIONS (default 6) sets how many kills; run hundreds with
#   FIN_FAULT_ITERATIONS=300 ctest -L fault -R delivery_kill
fin_script_test(NAME delivery_kill SCRIPT ${CMAKE_CURRENT_LIST_DIR}/delivery_kill.sh LABELS fault TIMEOUT 900)

# A destination that fails, then recovers: retries with backoff, then exactly once.
fin_script_test(NAME delivery_destination SCRIPT ${CMAKE_CURRENT_LIST_DIR}/delivery_destination.sh LABELS fault TIMEOUT 300)
