# kill -9 of a writer at random moments: a few iterations by default,
# FIN_FAULT_ITERATIONS=300 ctest -L fault for hundreds.
add_executable(fault_stream_kill ${CMAKE_CURRENT_LIST_DIR}/stream_kill.c)
target_include_directories(fault_stream_kill PRIVATE ${CMAKE_SOURCE_DIR}/tests/include ${CMAKE_SOURCE_DIR}/src)
target_link_libraries(fault_stream_kill PRIVATE fin_stream PkgConfig::CMOCKA)
add_test(NAME fault_stream_kill COMMAND fault_stream_kill)
set_tests_properties(fault_stream_kill PROPERTIES LABELS fault TIMEOUT 3600)

# every file operation of the writer failed in turn (a sample of them by default,
# all with FIN_FAULT_ITERATIONS set)
add_executable(fault_stream_io ${CMAKE_CURRENT_LIST_DIR}/stream_io.c)
target_include_directories(fault_stream_io PRIVATE ${CMAKE_SOURCE_DIR}/tests/include ${CMAKE_SOURCE_DIR}/src)
target_link_libraries(fault_stream_io PRIVATE fin_stream PkgConfig::CMOCKA)
add_test(NAME fault_stream_io COMMAND fault_stream_io)
set_tests_properties(fault_stream_io PROPERTIES LABELS fault TIMEOUT 3600)

# a segment cut at every length and with bits flipped everywhere
add_executable(fault_stream_damage ${CMAKE_CURRENT_LIST_DIR}/stream_damage.c)
target_include_directories(fault_stream_damage PRIVATE ${CMAKE_SOURCE_DIR}/tests/include ${CMAKE_SOURCE_DIR}/src)
target_link_libraries(fault_stream_damage PRIVATE fin_stream PkgConfig::CMOCKA)
add_test(NAME fault_stream_damage COMMAND fault_stream_damage)
set_tests_properties(fault_stream_damage PROPERTIES LABELS fault TIMEOUT 3600)
# Hundreds of opens, repairs and clean closes: their fsyncs cost nothing on a tmpfs, and
# what is judged (bytes on disk) is the same there.
if(IS_DIRECTORY /dev/shm)
  set_tests_properties(fault_stream_damage PROPERTIES ENVIRONMENT TMPDIR=/dev/shm)
endif()

# kill -9 of a writer that splits and merges while it appends
add_executable(fault_stream_reshard_kill ${CMAKE_CURRENT_LIST_DIR}/stream_reshard_kill.c)
target_include_directories(fault_stream_reshard_kill PRIVATE ${CMAKE_SOURCE_DIR}/tests/include ${CMAKE_SOURCE_DIR}/src)
target_link_libraries(fault_stream_reshard_kill PRIVATE fin_stream PkgConfig::CMOCKA)
add_test(NAME fault_stream_reshard_kill COMMAND fault_stream_reshard_kill)
set_tests_properties(fault_stream_reshard_kill PROPERTIES LABELS fault TIMEOUT 3600)

# delivery checkpoints that do not fit the stream (past its end, unknown shard) refused
fin_script_test(NAME delivery_checkpoint SCRIPT ${CMAKE_CURRENT_LIST_DIR}/delivery_checkpoint.sh LABELS fault TIMEOUT 300)
