# The AWS edge's readers of network input (after fuzz.cmake, which defines fin_fuzz_target).
fin_fuzz_target(NAME aws SOURCE ${CMAKE_CURRENT_LIST_DIR}/fuzz_aws.c LIBS fin_aws)
