"""JUnit XML, the format CI systems (GitLab, Jenkins, GitHub test reporters) render as test results.

One ``<testsuite>`` per lab, one ``<testcase>`` per check. Learner output may contain anything, so
every string is stripped of characters XML 1.0 forbids and escaped by ElementTree; a learner cannot
close ``<system-out>`` early or inject elements.

The integrity signature is computed over the exact XML text rendered without it, then inserted as a
``<properties><property name="integrity" value="nonce:signature"/></properties>`` block right after
the ``<testsuites>`` start tag; :func:`verify` removes that block and recomputes.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from mlalab.formats.integrity import ALGORITHM, clean_text, integrity_block, verify_payload
from mlalab.formats.json_format import graded_checks, number
from mlalab.results import CheckResult, LabResult, SubmissionResult

# Everything outside XML 1.0's Char production (tab, LF and CR are allowed; surrogates never are).
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'
_INDENT = "\n  "


def xml_text(text: str) -> str:
    """Drop characters no XML 1.0 document may contain (escaping is ElementTree's job)."""
    return _ILLEGAL_XML.sub("", clean_text(text))


def suite_name(lab: LabResult) -> str:
    """"lab01 endpoint_alarms": the number, then the slug without its numeric prefix."""
    name = re.sub(r"^\d+_", "", lab.slug)
    return xml_text(f"lab{lab.lab:02d} {name}")


def _seconds(value: float) -> str:
    return f"{value:.3f}"


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, {k: xml_text(v) for k, v in attrs.items()})
    if text is not None:
        element.text = xml_text(text)
    return element


def _testcase(suite: ET.Element, lab: LabResult, check: CheckResult) -> None:
    case = _sub(suite, "testcase", classname=suite_name(lab).replace(" ", "_"),
                name=f"{check.id}: {check.name}", time=_seconds(check.duration))
    if check.status != "pass":
        tag = "failure" if check.status == "fail" else "error"
        summary = check.message.splitlines()[0] if check.message else check.status
        _sub(case, tag, check.message, message=summary, type=check.status)


def _suites(result: SubmissionResult) -> ET.Element:
    root = ET.Element("testsuites", {"name": xml_text(f"mlalab {result.submission}")})
    suites: dict[int, tuple[LabResult, ET.Element, list[CheckResult]]] = {}
    for lab, _, check in graded_checks(result):
        if id(lab) not in suites:
            suite = _sub(root, "testsuite", name=suite_name(lab), time=_seconds(lab.duration))
            properties = _sub(suite, "properties")
            for name, value in (("score", number(lab.score)), ("max_score", number(lab.max_score)),
                                ("status", lab.status), ("task", lab.task), ("seed", str(lab.seed)),
                                ("isolation", lab.isolation)):
                _sub(properties, "property", name=name, value=value)
            suites[id(lab)] = (lab, suite, [])
        _testcase(suites[id(lab)][1], lab, check)
        suites[id(lab)][2].append(check)
    for lab, suite, checks in suites.values():
        suite.set("tests", str(len(checks)))
        suite.set("failures", str(sum(c.status == "fail" for c in checks)))
        suite.set("errors", str(sum(c.status == "error" for c in checks)))
        suite.set("skipped", "0")
        _sub(suite, "system-out", lab.output)  # schema order: properties, testcase*, system-out, system-err
        if lab.problems:
            _sub(suite, "system-err", "\n".join(lab.problems))
    for attr in ("tests", "failures", "errors"):
        root.set(attr, str(sum(int(s.get(attr, "0")) for _, s, _ in suites.values())))
    root.set("time", _seconds(result.duration))
    return root


def _integrity_snippet(value: str) -> str:
    properties = ET.Element("properties")
    ET.SubElement(properties, "property", {"name": "integrity", "value": value})
    return _INDENT + ET.tostring(properties, encoding="unicode")


def _start_tag_end(text: str) -> int:
    """Index just after ``<testsuites ...>`` (ElementTree escapes ``>`` inside attribute values)."""
    return text.index(">", text.index("<testsuites")) + 1


def render(result: SubmissionResult, *, nonce: str, key: bytes | None = None) -> str:
    root = _suites(result)
    ET.indent(root)
    unsigned = _DECLARATION + ET.tostring(root, encoding="unicode") + "\n"
    block = integrity_block(unsigned.encode("utf-8"), nonce, key)
    snippet = _integrity_snippet(f"{block['nonce']}:{block['signature']}")
    at = _start_tag_end(unsigned)
    return unsigned[:at] + snippet + unsigned[at:]


def verify(xml: str, key: bytes | None = None, *, expected_nonce: str | None = None) -> bool:
    """True when the integrity property matches the rest of the XML text, byte for byte."""
    try:
        root = ET.fromstring(xml.encode("utf-8"))
    except (ET.ParseError, ValueError):
        return False
    prop = root.find("./properties/property[@name='integrity']")
    if prop is None or ":" not in prop.get("value", ""):
        return False
    value = prop.get("value", "")
    snippet = _integrity_snippet(value)
    at = _start_tag_end(xml)
    if not xml.startswith(snippet, at):
        return False
    nonce, _, claimed = value.rpartition(":")
    block = {"nonce": nonce, "algorithm": ALGORITHM, "signature": claimed}
    unsigned = xml[:at] + xml[at + len(snippet):]
    return verify_payload(unsigned.encode("utf-8"), block, key, expected_nonce=expected_nonce)
