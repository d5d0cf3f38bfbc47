import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "resources", "tests"))

from mlflow_checks import *  # noqa: E402,F401,F403 - shared fixtures
