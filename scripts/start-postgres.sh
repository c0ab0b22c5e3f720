#!/usr/bin/env bash
# Start the machine's PostgreSQL cluster (Debian's postgresql package) and create a test
# database; prints its URL. Used by the test suite and CI; safe to run again.
set -euo pipefail
DB=${STORYLINE_PG_DB:-storyline_test}
USER_=${STORYLINE_PG_USER:-storyline}
PASS=${STORYLINE_PG_PASSWORD:-storyline}
PORT=${STORYLINE_PG_PORT:-5432}
as_pg() { if [ "$(id -u)" -eq 0 ]; then su postgres -s /bin/sh -c "$1"; else sudo -u postgres sh -c "$1"; fi; }
if ! command -v pg_lsclusters >/dev/null 2>&1; then
  echo "PostgreSQL is not installed (apt-get install postgresql)" >&2; exit 3
fi
read -r VER NAME _ < <(pg_lsclusters --no-header | head -1)
if [ -z "${VER:-}" ]; then
  VER=$(ls /usr/lib/postgresql | sort -n | tail -1); NAME=main
  pg_createcluster "$VER" "$NAME" >/dev/null
fi
if ! pg_lsclusters --no-header | grep -q "^$VER *$NAME .* online"; then
  pg_ctlcluster "$VER" "$NAME" start
fi
as_pg "psql -qtAc \"SELECT 1 FROM pg_roles WHERE rolname='$USER_'\" | grep -q 1 || psql -qc \"CREATE ROLE $USER_ LOGIN PASSWORD '$PASS' CREATEDB\"" >/dev/null
as_pg "psql -qtAc \"SELECT 1 FROM pg_database WHERE datname='$DB'\" | grep -q 1 || createdb -O $USER_ $DB" >/dev/null
as_pg "psql -q -d $DB -c 'CREATE EXTENSION IF NOT EXISTS vector'" >/dev/null 2>&1 || true
echo "postgresql://$USER_:$PASS@127.0.0.1:$PORT/$DB"
