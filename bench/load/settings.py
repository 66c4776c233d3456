"""The product's settings for `make load`, with the collected static files kept in the load's own data folder
(BSC_DATA_DIR) rather than the project's staticfiles/ that other runs share. Nothing else differs."""

from bsc.project.embedded import data_dir
from bsc.project.settings import *  # noqa: F403

STATIC_ROOT = data_dir() / "static"
