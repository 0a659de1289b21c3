#!/usr/bin/env bash
# SigV4: finstream's signer against botocore's on the same requests (S3 keys with unusual
# characters, sorted and escaped query strings, empty bodies, the JSON protocols).
set -euo pipefail
: "${FIN_BUILD:?}" "${FIN_SRC:?}"
py=python3
# botocore may be in Debian's python (python3-botocore) rather than the first on PATH.
if ! python3 -c 'import botocore' 2>/dev/null && [ -x /usr/bin/python3 ] &&
   /usr/bin/python3 -c 'import botocore' 2>/dev/null; then
  py=/usr/bin/python3
fi
exec "$py" "$FIN_SRC/tests/integration/aws/botocore_check.py" "$FIN_BUILD/tests/test_aws_sign_tool"
