"""Whether this host may log in to the MLflow database as the mlflow role.

Usage: python pg_connect.py DB_HOST PASSWORD   (an interpreter with psycopg2)

Prints one JSON line: "CONNECTED", or "REFUSED <error>" when PostgreSQL turned the connection down.
"""

import json
import sys

import psycopg2


def connect(host, password):
    try:
        conn = psycopg2.connect(host=host, dbname="mlflow", user="mlflow", password=password, connect_timeout=10)
        conn.cursor().execute("SELECT 1")
    except psycopg2.OperationalError as error:
        return "REFUSED %s" % error
    return "CONNECTED"


if __name__ == "__main__":
    print(json.dumps(connect(sys.argv[1], sys.argv[2])))
