# The console: its own part (a static library) and the web files embedded in it.
# Our pages are always embedded; the front-end libraries when scripts/web-assets.sh has
# put them in third_party/web (re-checked at every build). Without them the build still
# works and the page says what is missing.
fin_part(console fin_report fin_query fin_catalog fin_delivery fin_stream fin_core
         PkgConfig::JANSSON PkgConfig::MHD Threads::Threads m)
add_executable(fin_embed ${CMAKE_SOURCE_DIR}/src/console/tools/embed.c)
file(GLOB fin_console_pages CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/web/console/*)
file(GLOB fin_console_libs CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/third_party/web/*.js
     ${CMAKE_SOURCE_DIR}/third_party/web/*.css)
set(fin_embed_args)
foreach(f ${fin_console_pages})
  get_filename_component(n ${f} NAME)
  if(n STREQUAL "index.html")
    list(APPEND fin_embed_args "/index.html=${f}")
  else()
    list(APPEND fin_embed_args "/assets/${n}=${f}")
  endif()
endforeach()
foreach(f ${fin_console_libs})
  get_filename_component(n ${f} NAME)
  list(APPEND fin_embed_args "/assets/lib/${n}=${f}")
endforeach()
add_custom_command(OUTPUT ${CMAKE_BINARY_DIR}/console_assets.c
  COMMAND fin_embed ${CMAKE_BINARY_DIR}/console_assets.c ${fin_embed_args}
  DEPENDS fin_embed ${fin_console_pages} ${fin_console_libs}
  COMMENT "Embedding the console's web files")
target_sources(fin_console PRIVATE ${CMAKE_BINARY_DIR}/console_assets.c)
