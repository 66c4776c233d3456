"""gunicorn server hooks for `make load` (passed with `-c`): each request the locust driver tags (X-Load-Id) is
noted with the moment a worker starts on it and the moment it has answered, so bench/load/phases.py can split a
response time into waiting for a worker, the worker's own time and the time until the client has read the answer.
The clock is the machine's, shared by gunicorn and the driver."""

import os
import time

_LOG = os.environ.get("LOAD_TIMING_LOG", "")


def _note(req, what: str) -> None:
    tag = next((value for name, value in req.headers if name == "X-LOAD-ID"), None)
    if tag and _LOG:
        with open(_LOG, "a") as log:  # one short line per write: appends of several workers do not interleave
            log.write(f"{tag} {what} {time.time():.6f}\n")


def pre_request(worker, req):
    _note(req, "start")


def post_request(worker, req, environ, resp):
    _note(req, "end")
