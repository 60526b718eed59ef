#!/bin/sh
# Renders the nginx site deploy/nginx/bedrock.conf for one environment:
#
#   BEDROCK_UPSTREAMS="gateway-1:8080 gateway-2:8080" [NGINX_LISTEN=80] render-site.sh SRC DST
#
# The site's `upstream` block gets one `server` line per address of BEDROCK_UPSTREAMS, each with
# the parameters of the site's first `server` line (max_fails, fail_timeout, ...); with
# NGINX_LISTEN, every plain `listen PORT;` (or `listen [::]:PORT;`) takes that port. Everything
# else is copied as it is.
# docker-compose.yml runs it before nginx starts; `make deploy-check` renders the site the same way
# and runs `nginx -t` on the result.
set -eu
src=$1
dst=$2
: "${BEDROCK_UPSTREAMS:?list the gateways, e.g. BEDROCK_UPSTREAMS=\"gateway-1:8080 gateway-2:8080\"}"
awk -v servers="$BEDROCK_UPSTREAMS" -v listen="${NGINX_LISTEN:-}" '
  /^[ \t]*upstream[ \t]/ { inup = 1; done = 0; print; next }
  inup && /^[ \t]*server[ \t]/ {
    if (!done) {
      rest = $0
      sub(/^[ \t]*server[ \t]+[^ \t;]+/, "", rest)
      n = split(servers, s, " ")
      for (i = 1; i <= n; i++) printf "    server %s%s\n", s[i], rest
      done = 1
    }
    next
  }
  inup && /}/ { inup = 0 }
  listen != "" && /^[ \t]*listen[ \t]+(\[::\]:)?[0-9]+[ \t]*;/ { sub(/[0-9]+[ \t]*;/, listen ";") }
  { print }
' "$src" > "$dst"
