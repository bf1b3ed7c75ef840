#!/bin/sh
# Refuses to start the deployment with a secret left as in .env.example (or empty): runs before
# PostgreSQL, whose data volume would otherwise keep the placeholder password for good.
status=0
for name in POSTGRES_PASSWORD WAREHOUSE_PASSWORD AIRFLOW_JWT_SECRET AIRFLOW_FERNET_KEY; do
  eval "value=\${$name:-}"
  case "$value" in
    "" | *change-me*)
      echo "error: $name in .env is empty or still the example's 'change-me...' placeholder: set a secret of your own (see .env.example)" >&2
      status=1 ;;
  esac
done
if [ "$status" -eq 0 ]; then echo "check-env: every secret is set"; fi
exit "$status"
