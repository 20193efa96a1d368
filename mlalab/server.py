"""The lab's AWS: a moto server on a free loopback port, with the project's extensions loaded.

It runs in the grader's process (a thread), so the grader can reset state in-process between labs
while the learner's process reaches it only over HTTP. moto's own control plane (``/moto-api/``:
reset, seed, state injection) is refused on the wire: the learner's code must not be able to
reset the scenario or inject state that the checks would read.
"""

from __future__ import annotations

import logging
import threading

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import make_server

from fixtures import moto_ext

REGION = "us-east-1"


class _RefuseMotoApi:
    """WSGI middleware that answers 403 for moto's control endpoints."""

    def __init__(self, app) -> None:
        self.app = app

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO", "").lstrip("/").startswith("moto-api"):
            body = b"moto-api is disabled in mla-labs: lab code may only use AWS APIs"
            start_response("403 Forbidden", [("Content-Type", "text/plain"),
                                              ("Content-Length", str(len(body)))])
            return [body]
        return self.app(environ, start_response)


class LabServer:
    """A moto server for one grading run. Use as a context manager."""

    def __init__(self) -> None:
        moto_ext.install()
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log in the learner's report
        app = _RefuseMotoApi(DomainDispatcherApplication(create_backend_app))
        self._server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=MotoRequestHandler)
        self.port: int = self._server.server_address[1]
        self.endpoint_url = f"http://127.0.0.1:{self.port}"
        # A short poll interval: shutdown() waits for the serving loop to notice, up to one interval.
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02},
                                        daemon=True, name="mlalab-moto")

    def __enter__(self) -> LabServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    @staticmethod
    def reset() -> None:
        """Forget every resource (moto's backends and the extensions'), before each lab."""
        from moto.moto_api._internal.models import moto_api_backend

        moto_api_backend.reset()
        moto_ext.reset()
