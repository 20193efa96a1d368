"""The server's host dispatcher (``mlalab.server._Dispatcher``) answers as moto's does, once per host."""

from __future__ import annotations

import pytest
from moto import backends
from moto.moto_server.werkzeug_app import DomainDispatcherApplication

from mlalab.server import _Dispatcher

HOSTS = [None, "moto_api", "s3", "s3.amazonaws.com", "bucket.s3.amazonaws.com", "sagemaker.us-east-1.amazonaws.com",
         "api.sagemaker.us-east-1.amazonaws.com", "runtime.sagemaker.us-east-1.amazonaws.com",
         "iam.amazonaws.com", "monitoring.us-east-1.amazonaws.com", "events.eu-west-1.amazonaws.com",
         "127.0.0.1:5000", "nothing.example"]


def _never_built(service):  # the tests only resolve hosts, they never build an app
    raise AssertionError(f"no app should be built ({service})")


@pytest.mark.parametrize("host", HOSTS)
def test_the_backend_of_each_host_is_moto_s(host, capsys):
    assert _Dispatcher(_never_built).get_backend_for_host(host) == \
        DomainDispatcherApplication(_never_built).get_backend_for_host(host)


def test_a_host_is_resolved_once(monkeypatch):
    listed = []
    original = backends.list_of_moto_modules

    def counting():
        listed.append(1)
        return original()

    monkeypatch.setattr(backends, "list_of_moto_modules", counting)
    dispatcher = _Dispatcher(_never_built)
    first = [dispatcher.get_backend_for_host("api.sagemaker.us-east-1.amazonaws.com") for _ in range(5)]
    assert first == ["sagemaker"] * 5
    assert len(listed) == 1


def test_the_table_is_bounded(monkeypatch):
    monkeypatch.setattr(_Dispatcher, "HOSTS", 3)
    dispatcher = _Dispatcher(_never_built)
    for n in range(10):
        assert dispatcher.get_backend_for_host(f"host{n}.example") is None
    assert len(dispatcher._backends) == 3


RESPONSE_CLASSES = [
    ("moto.s3.responses", "S3Response"), ("moto.sagemaker.responses", "SageMakerResponse"),
    ("moto.cloudwatch.responses", "CloudWatchResponse"), ("moto.iam.responses", "IamResponse"),
    ("moto.ec2.responses", "EC2Response"), ("moto.events.responses", "EventsHandler"),
    ("moto.kms.responses", "KmsResponse"), ("moto.core.responses", "BaseResponse"),
]


@pytest.mark.parametrize(("module", "name"), RESPONSE_CLASSES)
def test_action_look_up_agrees_with_moto_s_listing(module, name):
    """``name in _ActionNames(cls)`` is ``name in method_names_from_class(cls)`` for every attribute of
    the class (functions, properties, class and static methods, data) and for names it does not have."""
    import importlib

    from moto.core.utils import method_names_from_class

    from mlalab.server import _ActionNames

    cls = getattr(importlib.import_module(module), name)
    listed = set(method_names_from_class(cls))
    names = set(dir(cls)) | {"no_such_action", "", "list_buckets", "describe_vpcs", "__class__", "__init__"}
    answers = {n: n in _ActionNames(cls) for n in names}
    assert answers == {n: n in listed for n in names}
    assert sum(answers.values()) > 5 and not all(answers.values())  # functions and other attributes
    assert 3 not in _ActionNames(cls)  # only names are looked up


def test_moto_s_call_action_uses_it():
    from moto.core import responses

    from mlalab.server import LabServer, _ActionNames

    with LabServer():
        assert responses.method_names_from_class is _ActionNames


def test_a_present_account_s_backends_come_straight_from_the_dict():
    """The quick look-up (``_quick_backend_lookup``) gives what moto's gives: the same object for a present
    account; a new account created and registered for moto's reset; after the reset, a new backend."""
    from moto.core.base_backend import BackendDict
    from moto.moto_api._internal.models import moto_api_backend
    from moto.sns.models import sns_backends

    from mlalab.server import LabServer

    with LabServer():
        assert getattr(BackendDict.__getitem__, "_mlalab_quick", False)
        moto_api_backend.reset()
        first = sns_backends["111122223333"]
        assert sns_backends in BackendDict._instances and dict.__contains__(sns_backends, "111122223333")
        assert sns_backends["111122223333"] is first
        first["us-east-1"].create_topic("kept", attributes={}, tags={})
        assert [t.name for t in sns_backends["111122223333"]["us-east-1"].topics.values()] == ["kept"]
        moto_api_backend.reset()
        assert sns_backends not in BackendDict._instances
        again = sns_backends["111122223333"]
        assert again is not first and not again["us-east-1"].topics
        assert sns_backends in BackendDict._instances
        moto_api_backend.reset()
