#!/usr/bin/env bash
# Fetches the console's front-end libraries from npm, pinned by exact version and checked
# against the registry's sha512 integrity, into third_party/web (ignored by git). The
# build embeds them into the finstream binary, so nothing is fetched at run time.
#
#   codemirror 5  the SQL editor (syntax highlighting, completion of table and column names)
#   uplot         the charts (line over time, bars by category; hover values)
#
# Idempotent. Exits 0 when they are there; exits 3 with a message when npm is missing
# or the fetch fails (the console then serves a page saying so; the build still works).
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dest="$root/third_party/web"

# name version sha512-integrity (as `npm view NAME@VERSION dist.integrity` gives it)
pins=(
  "codemirror 5.65.21 sha512-6teYk0bA0nR3QP0ihGMoxuKzpl5W80FpnHpBJpgy66NK3cZv5b/d/HY8PnRvfSsCG1MTfr92u2WUl+wT0E40mQ=="
  "uplot 1.6.32 sha512-KIMVnG68zvu5XXUbC4LQEPnhwOxBuLyW1AHtpm6IKTXImkbLgkMy+jabjLgSLMasNuGGzQm/ep3tOkyTxpiQIw=="
)
# the files the console serves: package path -> name under third_party/web
files=(
  "codemirror package/lib/codemirror.js codemirror.js"
  "codemirror package/lib/codemirror.css codemirror.css"
  "codemirror package/mode/sql/sql.js sql.js"
  "codemirror package/addon/hint/show-hint.js show-hint.js"
  "codemirror package/addon/hint/show-hint.css show-hint.css"
  "codemirror package/addon/hint/sql-hint.js sql-hint.js"
  "uplot package/dist/uPlot.iife.min.js uPlot.iife.min.js"
  "uplot package/dist/uPlot.min.css uPlot.min.css"
)
stamp="$dest/.versions"
want=$(printf '%s\n' "${pins[@]}")

have() {
  [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] || return 1
  local f
  for f in "${files[@]}"; do
    set -- $f
    [ -s "$dest/$3" ] || return 1
  done
}

have && exit 0
if ! command -v npm >/dev/null 2>&1; then
  echo "web-assets: npm not found; the console will run without its editor and charts" >&2
  exit 3
fi
mkdir -p "$dest"
exec 9>"$dest/.lock"
flock 9
have && exit 0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for p in "${pins[@]}"; do
  set -- $p
  name=$1 version=$2 integrity=$3
  if ! (cd "$tmp" && npm pack --silent "$name@$version" >"$tmp/$name.pack" 2>"$tmp/$name.err"); then
    echo "web-assets: npm pack $name@$version failed:" >&2
    tail -3 "$tmp/$name.err" >&2
    exit 3
  fi
  tgz="$tmp/$(tail -1 "$tmp/$name.pack")"
  got="sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)"
  if [ "$got" != "$integrity" ]; then
    echo "web-assets: $name@$version integrity mismatch: got $got, want $integrity" >&2
    exit 3
  fi
  mkdir -p "$tmp/$name"
  tar -xzf "$tgz" -C "$tmp/$name"
done
for f in "${files[@]}"; do
  set -- $f
  install -m 0644 "$tmp/$1/$2" "$dest/$3" || exit 3
done
printf '%s\n' "$want" >"$stamp"
echo "web-assets: codemirror and uplot installed in third_party/web"
