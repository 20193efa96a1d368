"""How the Model Monitor analyzer writes what it writes: it is a JVM program (Deequ on Spark, Jackson),
so numbers print as Java's ``Double.toString`` does and reports are laid out by Jackson's default pretty
printer. One place for both, used by every writer (violation descriptions, baselines, monitoring reports);
and how its container image is recognised.
"""

from __future__ import annotations

import json
import math
import re
from decimal import Decimal
from typing import Any


def java_double(value: float) -> str:
    """A double as Java's ``Double.toString`` prints it: plain from 1e-3 up to 1e7 (``231.0``, ``0.83``),
    else scientific (``5.0E-4``, ``1.0E7``); ``NaN``, ``Infinity``, ``-0.0`` as Java writes them."""
    value = float(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"
    if 1e-3 <= abs(value) < 1e7:
        text = repr(value)
        return text if ("." in text or "e" in text) else text + ".0"
    shortest = Decimal(repr(abs(value))).normalize().as_tuple()
    digits = "".join(str(d) for d in shortest.digits)
    exponent = len(digits) - 1 + int(shortest.exponent)
    return f"{'-' if value < 0 else ''}{digits[0]}.{digits[1:] or '0'}E{exponent}"


def report_json(document: Any, level: int = 0) -> str:
    """JSON in the analyzer's layout (Jackson's default pretty printer, as in the real
    ``statistics.json``/``constraints.json``): ``"key" : value``, objects indented by two spaces,
    arrays on one line (``[ 1.0, 2.0 ]``, ``[ {`` ... ``}, {`` ... ``} ]``)."""
    if isinstance(document, dict):
        if not document:
            return "{ }"
        pad = "  " * (level + 1)
        entries = [f"{pad}{json.dumps(str(k), ensure_ascii=False)} : {report_json(v, level + 1)}"
                   for k, v in document.items()]
        return "{\n" + ",\n".join(entries) + "\n" + "  " * level + "}"
    if isinstance(document, (list, tuple)):
        if not document:
            return "[ ]"
        return "[ " + ", ".join(report_json(item, level) for item in document) + " ]"
    if isinstance(document, bool) or document is None:
        return json.dumps(document)
    if isinstance(document, float):
        return java_double(document)
    if isinstance(document, int):
        return str(document)
    return json.dumps(document, ensure_ascii=False)


# --- the analyzer's container image -----------------------------------------------------------------

ANALYZER_REPOSITORY = "sagemaker-model-monitor-analyzer"
# "<registry>/<repository>[:tag|@digest]"; the registry is "<account>.dkr.ecr.<region>.amazonaws.com[.cn]".
_IMAGE = re.compile(r"^[^/]+/(?P<repository>[^:@]+)(?:[:@].*)?$")


def is_analyzer_image(image_uri: object) -> bool:
    """True for the Model Monitor analyzer image of any Region and account (by repository name: the
    registry differs per Region, model-monitor-pre-built-container.html). The wire runs the analyzer for
    a processing job with this image; the checks recognise a baselining job by it."""
    if not isinstance(image_uri, str):
        return False
    match = _IMAGE.match(image_uri.strip())
    return bool(match) and match["repository"] == ANALYZER_REPOSITORY
