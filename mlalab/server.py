"""The lab's AWS: a moto server on a free loopback port, with the project's extensions loaded.

It runs in the grader's process (a thread), so the grader can reset state in-process between labs
while the learner's process reaches it only over HTTP. moto's own control plane (``/moto-api/``:
reset, seed, state injection) is refused on the wire: the learner's code must not be able to
reset the scenario or inject state that the checks would read. Requests whose parameters carry
control characters are refused too, as AWS refuses them: stored in a name, they would make the
server's own XML answers unreadable to the grader and turn a learner's failed lab into a grader
"error" (and smuggle terminal escapes into reports).

``mlalab serve`` runs the same server in the foreground, on a port of the learner's choice, and may
open ``/moto-api/`` (``allow_reset``): there no grader reads the state, and a reset is what an
explorer wants.
"""

from __future__ import annotations

import inspect
import io
import json
import logging
import os
import re
import socket
import sys
import threading
from urllib.parse import parse_qsl, unquote_plus

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import make_server

from fixtures import moto_ext
from fixtures.moto_ext import lambda_ as lambda_ext
from mlalab.catalog import load_labs
from mlalab.sandbox import bridge
from mlalab.sandbox.child import DistinctPaths
from mlalab.sandbox.handler import HandlerPool

REGION = "us-east-1"


# Characters XML 1.0 cannot carry (tab, LF and CR can), and DEL; in JSON bodies also as \\u escapes.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CONTROL_ESCAPE = re.compile(r"\\u00(?:[01][0-9a-fA-F]|7[fF])")
_ALLOWED_ESCAPES = {"\\u0009", "\\u000a", "\\u000d"}
# Names, ids and ARNs are one line in AWS: no line break of any kind either (an XML reader turns a
# CR into LF, so a name with one could never be read back by the grader).
_NAME_BREAKS = re.compile("[\x00-\x1f\x7f\x85\u2028\u2029]")
_NAME_KEY = re.compile(r"(Name|name|Id|Arn|arn)$")
_BODY_CAP = 8 * 1024 * 1024


def _has_control(text: str) -> bool:
    if _CONTROL.search(text):
        return True
    return any(m.group().lower() not in _ALLOWED_ESCAPES for m in _CONTROL_ESCAPE.finditer(text))


def _bad_name(pairs) -> str | None:
    """The first name-like parameter (``PolicyName``, ``Tags.member.1.Key`` is not) with a line break."""
    for key, value in pairs:
        if isinstance(key, str) and isinstance(value, str) and _NAME_KEY.search(key.rsplit(".", 1)[-1]) \
                and _NAME_BREAKS.search(value):
            return key
    return None


def _json_pairs(value, depth: int = 0):
    if depth > 50:
        return
    if isinstance(value, dict):
        for key, item in value.items():
            yield key, item
            yield from _json_pairs(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            yield from _json_pairs(item, depth + 1)


class _RefuseMotoApi:
    """WSGI middleware that answers 403 for moto's control endpoints, and 400 (as AWS would) for API
    parameters with control characters, or names with line breaks."""

    def __init__(self, app, allow_reset: bool = False) -> None:
        self.app = app
        self.allow_reset = allow_reset

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "").lstrip("/")
        if path.startswith("moto-api"):
            if not self.allow_reset:
                return self._answer(start_response, "403 Forbidden", "text/plain",
                                    b"moto-api is disabled in mla-labs: lab code may only use AWS APIs")
            answer = self.app(environ, start_response)
            if path == "moto-api/reset" and environ.get("REQUEST_METHOD") == "POST":
                moto_ext.reset()  # moto's reset does not know the extensions' state
            return answer
        problem = self._bad_parameters(environ)
        if problem:
            message = f"mla-labs: {problem}, which AWS does not accept"
            if "json" in environ.get("CONTENT_TYPE", ""):
                body = json.dumps({"__type": "ValidationException", "message": message}).encode()
                return self._answer(start_response, "400 Bad Request", "application/x-amz-json-1.1", body)
            body = (f"<ErrorResponse><Error><Type>Sender</Type><Code>ValidationError</Code><Message>{message}"
                    "</Message></Error><RequestId>mla-labs</RequestId></ErrorResponse>").encode()
            return self._answer(start_response, "400 Bad Request", "text/xml", body)
        return self.app(environ, start_response)

    @staticmethod
    def _answer(start_response, status: str, content_type: str, body: bytes):
        start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(body)))])
        return [body]

    @staticmethod
    def _bad_parameters(environ) -> str | None:
        """What is wrong with the parameters of a query (form-encoded) or JSON API call, if anything.
        Object bodies (S3) are data, not parameters, and are never inspected."""
        query = environ.get("QUERY_STRING", "")
        pairs = parse_qsl(query, keep_blank_values=True)
        content_type = environ.get("CONTENT_TYPE", "")
        text = ""
        if "x-www-form-urlencoded" in content_type or "json" in content_type:
            try:
                length = int(environ.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if 0 < length <= _BODY_CAP:
                body = environ["wsgi.input"].read(length)
                environ["wsgi.input"] = io.BytesIO(body)  # put it back for moto
                text = body.decode("utf-8", "replace")
                if "x-www-form-urlencoded" in content_type:
                    pairs += parse_qsl(text, keep_blank_values=True)
                    text = unquote_plus(text)
                else:
                    try:
                        pairs += list(_json_pairs(json.loads(text)))
                    except (ValueError, RecursionError):
                        pass
        if _has_control(unquote_plus(query)) or _has_control(text):
            return "a request parameter contains a control character"
        name = _bad_name(pairs)
        if name:
            return f"the parameter {name} contains a line break or control character"
        return None


# --- loading moto's EC2 backend lean -------------------------------------------------------------
# moto's EC2 models read every region's instance type offerings when they are imported (about
# 150,000 dicts, ~45 MB that stay for the process's life), though only DescribeInstanceTypeOfferings,
# DescribeSpotPriceHistory and RunInstances with a Placement ever read them, one region at a time.
# Here each region's file is read on first use instead; what those calls answer is unchanged.
_OFFERINGS_MODULE = "moto.ec2.models.instance_types"
_OFFERINGS_PREFIX = "ec2/resources/instance_type_offerings/"
_OFFERINGS_LOCK = threading.Lock()


class _DeferredOfferings(list):
    """One location type's offerings in one region (a list, as moto expects), read on first use."""

    def __init__(self, resource: str, location_type: str, load) -> None:
        super().__init__()
        self._resource: str | None = resource
        self._location_type, self._read = location_type, load

    def _load(self) -> None:
        module = sys.modules.get(_OFFERINGS_MODULE)
        # While moto's module is still running its own loop over the files, the list stays empty.
        if self._resource is None or not hasattr(module, "InstanceTypeBackend"):
            return
        with _OFFERINGS_LOCK:
            if self._resource is None:
                return
            items = self._read(self._resource)
            for item in items:
                item["LocationType"] = self._location_type  # what moto's loop adds
            list.extend(self, items)
            self._resource = None

    def __iter__(self):
        self._load()
        return list.__iter__(self)

    def __len__(self) -> int:
        self._load()
        return list.__len__(self)

    def __getitem__(self, index):
        self._load()
        return list.__getitem__(self, index)

    def __contains__(self, item) -> bool:
        self._load()
        return list.__contains__(self, item)

    def __reversed__(self):
        self._load()
        return list.__reversed__(self)

    def __eq__(self, other) -> bool:
        self._load()
        return list.__eq__(self, other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        self._load()
        return list.__repr__(self)


def _defer_instance_type_offerings() -> None:
    """Make moto's instance type offerings load per region on first use (before moto.ec2 is imported;
    a no-op once it is, or when already done)."""
    from moto.utilities import utils

    if _OFFERINGS_MODULE in sys.modules or getattr(utils.load_resource, "_mlalab_lean", False):
        return
    read = utils.load_resource

    def load_resource(resource: str):
        caller = sys._getframe(1).f_globals.get("__name__")
        if caller == _OFFERINGS_MODULE and resource.startswith(_OFFERINGS_PREFIX):
            location_type = resource[len(_OFFERINGS_PREFIX):].split("/", 1)[0]
            return _DeferredOfferings(resource, location_type, read)
        return read(resource)

    load_resource._mlalab_lean = True  # type: ignore[attr-defined]
    utils.load_resource = load_resource


# moto's EC2 zones module asks three fresh boto3 sessions for EC2's regions when it is imported; each
# loads EC2's service model (the largest botocore has) and the endpoint rules anew: about 0.9 s of a
# 1.5 s first EC2 request. moto's own backends ask one shared session (``AccountSpecificBackend.
# get_session``), which loads them anyway: the zones module is pointed at it. Same data, same answers.
_ZONES_MODULE = "moto.ec2.models.availability_zones_and_regions"


def _share_region_lookups() -> None:
    """Route the EC2 zones module's region look-ups through moto's shared session (before moto.ec2 is
    imported; harmless after)."""
    from boto3.session import Session

    if getattr(Session.get_available_regions, "_mlalab_shared", False):
        return
    original = Session.get_available_regions

    def get_available_regions(self, service_name, partition_name="aws", allow_non_regional=False):
        if sys._getframe(1).f_globals.get("__name__") == _ZONES_MODULE:
            from moto.core.base_backend import AccountSpecificBackend

            shared = AccountSpecificBackend.get_session()
            if shared is not self:
                return original(shared, service_name, partition_name, allow_non_regional)
        return original(self, service_name, partition_name, allow_non_regional)

    get_available_regions._mlalab_shared = True  # type: ignore[attr-defined]
    Session.get_available_regions = get_available_regions  # type: ignore[method-assign]


# --- one data loader per process ------------------------------------------------------------------
# botocore gives every session its own loader, and moto makes a new one for every service model it
# parses: each scans botocore's ~450 data folders (about 20,000 stat calls) on its first model, and
# decodes again the JSON another session already decoded (SageMaker's model alone takes ~70 ms). The
# grader's process has four such users (the grader's clients, moto's parsers, moto's region look-ups,
# the validation engine). Here each kind of loader is made once per process and shared: models are
# read-only data to all of them (nothing in botocore, boto3 or moto handles ``service-data-loaded``),
# so every user gets the same models it would have loaded itself.


_LOADERS: dict[object, object] = {}
_LOADERS_LOCK = threading.Lock()


def _shared_loader(key: object, make):
    with _LOADERS_LOCK:
        loader = _LOADERS.get(key)
        if loader is None:
            loader = _LOADERS[key] = make()
        return loader


def _share_data_loaders() -> None:
    """Make botocore's sessions (one loader per data path) and moto's model parsers (one moto loader)
    share their loaders in this process (idempotent)."""
    import botocore.session
    from botocore import loaders
    from moto.core import loaders as moto_loaders
    from moto.core import utils as moto_utils

    if getattr(botocore.session.create_loader, "_mlalab_shared", False):
        return

    def create_loader(search_path_string: str | None = None):
        def make():
            paths = [] if search_path_string is None else [
                os.path.expanduser(os.path.expandvars(p)) for p in search_path_string.split(os.pathsep)]
            return loaders.Loader(extra_search_paths=DistinctPaths(paths))

        return _shared_loader(("botocore", search_path_string), make)

    def create_moto_loader():
        def make():
            return moto_loaders.Loader(extra_search_paths=DistinctPaths([moto_loaders.moto_root]))

        return _shared_loader("moto", make)

    create_loader._mlalab_shared = True  # type: ignore[attr-defined]
    botocore.session.create_loader = create_loader
    moto_utils.create_loader = create_moto_loader


# --- moto's action look-up -----------------------------------------------------------------------
# For every request, moto's ``BaseResponse.call_action`` lists all the functions of the response class
# (``inspect.getmembers``: hundreds of attributes, sorted) only to ask whether the action's name is one
# of them: ~2 % of a warm grading. ``_ActionNames`` answers that one question directly, with the same
# answer (a name is listed exactly when ``getattr(cls, name)`` is a plain function).


class _ActionNames:
    """What ``method_names_from_class(cls)`` gives ``call_action``, as far as ``in`` can tell."""

    __slots__ = ("_cls",)

    def __init__(self, cls: type) -> None:
        self._cls = cls

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and inspect.isfunction(getattr(self._cls, name, None))


def _quick_action_lookup() -> None:
    """Point moto's ``call_action`` at ``_ActionNames`` (idempotent)."""
    from moto.core import responses

    responses.method_names_from_class = _ActionNames


# Every ``moto_backends[account]`` look-up (tens of thousands in a grading: each captured record, metric
# and CloudTrail entry makes several) takes moto's global backend lock, copies the dict's keys into a
# list and scans the list of every BackendDict in use with ``==``. An account already there needs none
# of it: moto adds an account and registers its BackendDict in one step under that lock, and its reset
# undoes both in one step, so a present account is a registered one. Only a missing account goes
# moto's way (and is created and registered there).


def _quick_backend_lookup() -> None:
    """Answer ``BackendDict[account]`` for a present account directly (idempotent)."""
    from moto.core.base_backend import BackendDict

    if getattr(BackendDict.__getitem__, "_mlalab_quick", False):
        return
    create_or_get = BackendDict.__getitem__

    def __getitem__(self, account_id):
        try:
            return dict.__getitem__(self, account_id)
        except KeyError:
            return create_or_get(self, account_id)

    __getitem__._mlalab_quick = True  # type: ignore[attr-defined]
    BackendDict.__getitem__ = __getitem__  # type: ignore[method-assign]


_LEAN_LOCK = threading.Lock()


def _lean_moto() -> None:
    """Every change above to how moto loads and looks things up (each idempotent): made before moto.ec2
    is imported, by whichever comes first, the background preload or the server. The lock keeps the
    two from both finding a change not yet made, and both making it."""
    with _LEAN_LOCK:
        _defer_instance_type_offerings()
        _share_region_lookups()
        _share_data_loaders()
        _quick_action_lookup()
        _quick_backend_lookup()


def preload_services(services: list[str]) -> None:
    """Import moto's models for ``services`` and build their backends for the lab's account and
    region: what a service's first request would do. Run in a background thread while the grader
    starts (pytest, collection) and the learner's sandbox starts, it takes EC2's second of loading
    (lab 05) off the first request's path where the two overlap."""
    _lean_moto()  # before moto.ec2 is imported, as LabServer does
    from moto.backends import get_backend

    for service in services:
        try:
            backends = get_backend(service)  # type: ignore[arg-type]
            account = backends["123456789012"]
            account[REGION if REGION in account.regions else "aws"]
        except Exception:  # noqa: BLE001 - not a moto service name: its first request loads it
            pass


class _Dispatcher(DomainDispatcherApplication):
    """moto's host dispatcher, remembering which backend serves each host.

    moto resolves a request's host to a service on every request, by listing its own package folder
    (``backends.list_of_moto_modules``: ~190 ``stat`` calls) and then trying each service's URL
    patterns: about 1.6 ms a request, a tenth of a warm grading's CPU. The answer depends only on the
    host and on moto's installed files, so it is kept; the table is bounded, since the learner's code
    chooses the hosts it sends."""

    HOSTS = 512

    def __init__(self, create_app) -> None:
        super().__init__(create_app)
        self._backends: dict[str | None, object] = {}

    def get_backend_for_host(self, host: str | None):  # called under moto's dispatcher lock
        try:
            return self._backends[host]
        except KeyError:
            pass
        backend = super().get_backend_for_host(host)
        if len(self._backends) < self.HOSTS:
            self._backends[host] = backend
        return backend


def _backend_app(service: str):
    """moto's app for ``service`` (built on the service's first request), with the extensions that
    change that service's answers installed first."""
    moto_ext.install_for(service)
    return create_backend_app(service)


def _listening_socket(host: str, port: int) -> socket.socket:
    """A TCP socket listening on ``host:port``. SO_REUSEADDR lets a restarted ``mlalab serve`` take its
    port back from connections still in TIME_WAIT; on Linux and macOS it never shares a port another
    program listens on."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    return sock


class LabServer:
    """A moto server for one grading run (or one ``mlalab serve``). Use as a context manager.

    ``port`` 0 takes a free one. A port that cannot be had raises ``OSError`` (``errno.EADDRINUSE``
    when it is taken): the socket is bound here, not by werkzeug, which would print and exit instead.
    ``allow_reset`` opens moto's ``/moto-api/`` (refused by default, and always when grading)."""

    def __init__(self, port: int = 0, allow_reset: bool = False) -> None:
        with _listening_socket("127.0.0.1", port) as listener:  # first: a busy port fails fast
            _lean_moto()
            moto_ext.install(lazy=True)  # service-bound extensions: on their service's first request
            logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log in the learner's report
            app = _RefuseMotoApi(_Dispatcher(_backend_app), allow_reset=allow_reset)
            # werkzeug serves a duplicate of the socket (``fd``); this one closes with the block
            self._server = make_server("127.0.0.1", port, app, threaded=True, request_handler=MotoRequestHandler,
                                       fd=listener.fileno())
        self.app = app  # the grader's own clients call it in-process (mlalab.transport)
        self.port: int = self._server.server_address[1]
        bridge.serve_directly(self.port, self._server)  # the sandbox's bridge hands its connections here
        self.endpoint_url = f"http://127.0.0.1:{self.port}"
        # A short poll interval: shutdown() waits for the serving loop to notice, up to one interval.
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02},
                                        daemon=True, name="mlalab-moto")
        # Lambda handlers are learner code: they run in sandboxed processes of this server's own pool,
        # never in the grader's process (none starts until a function is invoked).
        # The reference solutions stay out of reach of handlers as of the learner's code (what the
        # fallback sandbox needs; the namespace jail does not mount the project at all).
        blocked = sorted(str(lab.solution_path) for lab in load_labs())
        self.lambda_pool = HandlerPool(self.port, blocked_paths=blocked)
        lambda_ext.register_executor(self.lambda_pool)

    def __enter__(self) -> LabServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        bridge.stop_serving_directly(self.port, self._server)
        self._server.shutdown()
        self._server.server_close()
        self.lambda_pool.close()

    @staticmethod
    def reset() -> None:
        """Forget every resource (moto's backends and the extensions'), before each lab."""
        from moto.moto_api._internal.models import moto_api_backend

        moto_api_backend.reset()
        moto_ext.reset()
