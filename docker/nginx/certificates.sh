#!/bin/sh
# Runs before nginx starts (the nginx image runs /docker-entrypoint.d/*.sh).
# - Until certbot has issued the real certificate, a self-signed one lets nginx start
#   with its TLS server block (browsers warn). Replace it as the runbook says
#   (docs/operational-runbook.md, "TLS with certbot").
# - Reloads nginx every 6 hours so a certificate renewed by certbot is picked up.
set -eu
live="/etc/letsencrypt/live/${SERVER_NAME:?}"
if [ ! -f "$live/fullchain.pem" ]; then
  mkdir -p "$live"
  openssl req -x509 -nodes -newkey rsa:2048 -days 30 -subj "/CN=${SERVER_NAME}" \
    -keyout "$live/privkey.pem" -out "$live/fullchain.pem" 2>/dev/null
  echo "$0: self-signed certificate for ${SERVER_NAME} until certbot replaces it"
fi
(while :; do sleep 21600; nginx -s reload; done) >/dev/null 2>&1 &
