#!/usr/bin/env bash
# The AWS SDK for JavaScript v3 (@aws-sdk/client-kinesis, pinned and installed by
# scripts/js-sdk.sh) against finstream serve: create, put, get, reshard, delete and the
# modeled exceptions.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/serve_lib.sh"
: "${FIN_SRC:?FIN_SRC must point at the source tree}"
if ! bash "$FIN_SRC/scripts/js-sdk.sh"; then
  echo "@aws-sdk/client-kinesis could not be installed from npm: skipping"
  exit 0
fi
start_serve --status-delay 100ms
node "$(dirname "$0")/serve/js/kinesis_js.mjs" "$FIN_SRC/third_party/js-sdk" "$EP"
stop_serve
echo "serve_js: ok"
