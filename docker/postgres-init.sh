#!/bin/sh
# Create Airflow's metadata database and the shared warehouse (with its own role).
set -eu
psql -v ON_ERROR_STOP=1 -v warehouse_password="$WAREHOUSE_PASSWORD" \
  --username "$POSTGRES_USER" --dbname postgres -f /docker-entrypoint-initdb.d/init.sql.in
