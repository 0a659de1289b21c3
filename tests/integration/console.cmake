# The web console: its JSON API with curl, and its pages in headless Chromium.
fin_script_test(NAME console_api SCRIPT ${CMAKE_CURRENT_LIST_DIR}/console_api.sh
                LABELS "integration;console" TIMEOUT 300)
fin_script_test(NAME console_browser SCRIPT ${CMAKE_CURRENT_LIST_DIR}/console_browser.sh
                LABELS "integration;console;browser" TIMEOUT 600)
