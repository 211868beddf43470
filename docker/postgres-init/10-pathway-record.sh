#!/bin/sh
# Runs once, when the PostgreSQL volume is first initialised: the service's record store gets a
# database of its own and a user of its own, apart from Temporal's.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres <<SQL
CREATE ROLE pathway LOGIN PASSWORD '${PATHWAY_DB_PASSWORD}';
CREATE DATABASE pathway OWNER pathway;
REVOKE ALL ON DATABASE pathway FROM PUBLIC;
SQL
