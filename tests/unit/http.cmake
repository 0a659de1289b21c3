# The HTTP transport (src/core/http_curl.c) against a loopback python3 server.
fin_unit_test(NAME test_http SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_http.c LIBS fin_core)
target_compile_definitions(test_http PRIVATE
  FIN_HTTP_ECHO_SERVER="${CMAKE_CURRENT_LIST_DIR}/http_echo_server.py")
