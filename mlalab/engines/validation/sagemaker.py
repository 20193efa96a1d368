"""SageMaker's cross-parameter rules. botocore's model constraints apply to every operation first (names,
ARNs, enums such as instance types, ranges such as InitialInstanceCount); for data capture they already
refuse, in AWS's Coral wording, what the DataCaptureConfig page lists
(https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_DataCaptureConfig.html):
InitialSamplingPercentage, DestinationS3Uri and CaptureOptions required; InitialSamplingPercentage
0-100; DestinationS3Uri at most 512 characters matching ``(https|s3)://([^/])/?(.*)``; KmsKeyId at most
2048 characters of ``[a-zA-Z0-9:/_-]``; 1 to 32 CaptureOptions, each CaptureMode one of
``Input | Output | InputAndOutput`` (CaptureOption page); CaptureContentTypeHeader's CsvContentTypes and
JsonContentTypes 1 to 10 media types each
(https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CaptureContentTypeHeader.html).

The rules here are the ones no model expresses, each citing its page:

* CreateEndpointConfig, https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateEndpointConfig.html
  (ShadowProductionVariants: "If you use this field, you can only specify one variant for
  ProductionVariants and one variant for ShadowProductionVariants").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import Lookup, Rejection


def one_production_and_one_shadow_variant(p: Mapping[str, Any], _: Lookup | None) -> Rejection | None:
    """With ShadowProductionVariants, exactly one production and one shadow variant (CreateEndpointConfig,
    ShadowProductionVariants)."""
    shadows = p.get("ShadowProductionVariants")
    if not shadows:
        return None
    production = p.get("ProductionVariants") or []
    if len(production) != 1 or len(shadows) != 1:
        # wording: inferred (the page states the rule; AWS answers a broken rule with ValidationException).
        return Rejection("ValidationException",
                         "When ShadowProductionVariants is specified, ProductionVariants must contain exactly one "
                         f"variant and ShadowProductionVariants exactly one variant (got {len(production)} and "
                         f"{len(shadows)}).")
    return None


RULES = {"CreateEndpointConfig": [one_production_and_one_shadow_variant]}
