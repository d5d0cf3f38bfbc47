"""Whether this host may log in to the MLflow database as the mlflow role.

Usage: python pg_connect.py DB_HOST PASSWORD [OPTION=VALUE...]   (an interpreter with psycopg2; options are libpq's,
e.g. sslmode=verify-full sslrootcert=/etc/mlflow/db-ca.pem)

Prints one JSON line: "CONNECTED ssl=<on|off>", or "REFUSED <error>" when PostgreSQL or libpq turned it down.
"""

import json
import sys

import psycopg2


def connect(host, password, options):
    try:
        conn = psycopg2.connect(
            host=host, dbname="mlflow", user="mlflow", password=password, connect_timeout=10, **options
        )
        cursor = conn.cursor()
        cursor.execute("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        ssl = cursor.fetchone()[0]
    except psycopg2.OperationalError as error:
        return "REFUSED %s" % error
    return "CONNECTED ssl=%s" % ("on" if ssl else "off")


if __name__ == "__main__":
    print(json.dumps(connect(sys.argv[1], sys.argv[2], dict(arg.split("=", 1) for arg in sys.argv[3:]))))
