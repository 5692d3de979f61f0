#!/bin/sh
# Entry point of the supportbot image: `app` (default), `worker`, `scheduler`, or any
# command (e.g. `supportbot backup`).
set -eu

# prometheus_client's multi-process mode: one folder shared by the processes of this
# container, emptied at every start (stale files would add old counts).
rm -rf "${PROMETHEUS_MULTIPROC_DIR:?}" && mkdir -p "$PROMETHEUS_MULTIPROC_DIR"

case "${1:-app}" in
  app)
    # One app container runs the migrations before its workers start; GRANIAN_WORKERS
    # workers are forked from one process that loaded the models (shared pages).
    supportbot migrate
    exec reflex run --env prod --backend-only --backend-host 0.0.0.0 --backend-port 8000 ;;
  worker)
    exec supportbot worker ;;
  scheduler)
    exec supportbot scheduler ;;
  *)
    exec "$@" ;;
esac
