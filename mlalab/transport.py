"""The grader's boto3 clients reach the lab's moto server in-process: the same request, the same WSGI
application, no socket.

The learner's code lives in another process and must reach moto over the wire; the grader's own calls
(building the scenario, reading what the learner left) do not need to. Over the loopback socket each of
them paid urllib3's and ``http.client``'s framing, a server thread, and werkzeug's request parsing
(``email``'s header parser): about 40 % of a call's CPU, and most of a warm grading's. Here botocore
still builds, signs and parses every request and answer exactly as it does for HTTP (the handler sits on
its ``before-send`` event, after signing), and the request still enters the server's WSGI application
(``server._RefuseMotoApi``, moto's dispatcher, the extensions' hooks) with the environ werkzeug's
development server would have built for it (``MotoRequestHandler.make_environ``, mirrored below): only
the bytes on a socket are skipped.
"""

from __future__ import annotations

import sys
from io import BytesIO
from typing import Any
from urllib.parse import unquote, urlsplit

from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.compat import HTTPHeaders
from moto.core.botocore_stubber import MockRawResponse
from moto.core.request import (
    PRESERVED_HEADER_NAMES_ENVIRON_KEY,
    environ_key_for_header,
    should_preserve_original_header_name,
)
from werkzeug.serving import _wsgi_encoding_dance


class InProcess:
    """A ``before-send`` handler answering a client's requests from ``app`` (register it on a client's
    events: ``client.meta.events.register("before-send", InProcess(app))``)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, request: AWSPreparedRequest, **_: Any) -> AWSResponse:
        body = request.body
        if hasattr(body, "read"):
            body = body.read()
        if isinstance(body, str):
            body = body.encode("utf-8")
        answer: dict[str, Any] = {}

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: object = None) -> None:
            answer["status"], answer["headers"] = status, headers

        chunks = self.app(wsgi_environ(request, body), start_response)
        try:
            data = b"".join(chunks)
        finally:
            if hasattr(chunks, "close"):
                chunks.close()
        headers = HTTPHeaders()
        for name, value in answer["headers"]:
            headers[name] = value
        return AWSResponse(request.url, int(answer["status"].split(" ", 1)[0]), headers, MockRawResponse(data))


def wsgi_environ(request: AWSPreparedRequest, body: bytes | None) -> dict[str, Any]:
    """What werkzeug's development server (with moto's ``MotoRequestHandler``) puts in the environ for this
    request arriving on the loopback socket (``body`` None: the request has none)."""
    url = urlsplit(request.url)
    raw = url.path + (f"?{url.query}" if url.query else "")
    host, _, port = url.netloc.partition(":")
    environ: dict[str, Any] = {
        "wsgi.version": (1, 0), "wsgi.url_scheme": url.scheme or "http", "wsgi.input": BytesIO(body or b""),
        "wsgi.errors": sys.stderr, "wsgi.multithread": True, "wsgi.multiprocess": False, "wsgi.run_once": False,
        "SERVER_SOFTWARE": "mla-labs in-process", "REQUEST_METHOD": request.method, "SCRIPT_NAME": "",
        "PATH_INFO": _wsgi_encoding_dance(unquote(url.path)), "QUERY_STRING": _wsgi_encoding_dance(url.query),
        "REQUEST_URI": _wsgi_encoding_dance(raw), "RAW_URI": _wsgi_encoding_dance(raw),
        "REMOTE_ADDR": "127.0.0.1", "REMOTE_PORT": 0, "SERVER_NAME": host, "SERVER_PORT": port or "80",
        "SERVER_PROTOCOL": "HTTP/1.1", "HTTP_HOST": url.netloc,
    }
    if body is not None or request.method.upper() in ("POST", "PUT", "PATCH"):  # as http.client sends it
        environ["CONTENT_LENGTH"] = str(len(body or b""))
    headers = [(name, value.decode("latin-1") if isinstance(value, bytes) else str(value))
               for name, value in request.headers.items()
               if name.lower() not in ("host", "content-length", "transfer-encoding")]  # the body is whole here
    for name, value in headers:
        if "_" in name:
            continue
        key = name.upper().replace("-", "_")
        value = value.replace("\r\n", "")
        if key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            key = f"HTTP_{key}"
            if key in environ:
                value = f"{environ[key]},{value}"
        environ[key] = value
    environ.setdefault("HTTP_ACCEPT_ENCODING", "identity")  # what http.client adds when the request has none
    # MotoRequestHandler: headers with underscores (S3 metadata) keep their spelling.
    dashed = {environ_key_for_header(name) for name, _ in headers if "_" not in name}
    names: dict[str, str] = {}
    values: dict[str, list[str]] = {}
    for name, value in headers:
        key = environ_key_for_header(name)
        if should_preserve_original_header_name(name) and key not in dashed:
            names.setdefault(key, name)
            values.setdefault(key, []).append(value.replace("\r\n", ""))
    for key, key_values in values.items():
        environ[key] = ",".join(key_values)
    environ[PRESERVED_HEADER_NAMES_ENVIRON_KEY] = names
    return environ
