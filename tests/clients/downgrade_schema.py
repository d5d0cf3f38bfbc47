"""Put the MLflow tracking schema one revision back, as an older MLflow left it, with a sentinel experiment.

Usage: python downgrade_schema.py   (the MLflow environment's interpreter, with the server's environment
file loaded: MLFLOW_BACKEND_STORE_URI)

Used by the default scenario's side effect, which then re-runs the site playbook: verify checks that a
backup was taken first, that the schema is back at head and that the sentinel survived.
"""

import os

import sqlalchemy as sa
from alembic import command
from mlflow.store.db.utils import _get_alembic_config


def main():
    uri = os.environ["MLFLOW_BACKEND_STORE_URI"]
    engine = sa.create_engine(uri)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO experiments (name, artifact_location, lifecycle_stage, creation_time, last_update_time) "
                "VALUES ('pre-upgrade-sentinel', 'mlflow-artifacts:/sentinel', 'active', 0, 0)"
            )
        )
    config = _get_alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "-1")


if __name__ == "__main__":
    main()
