"""Spine's reasons in plain words: every reason it gives, one per reason, each with its code for the help desk.

Codes and their meanings follow the ACS protocol notes (§1.6): the detected-issue codes the SCR API handles
(``SpineDetectedIssuesHandler``) and the TMS codes in NHS's MHS adaptor's SOAP fault samples. A code not listed
here is shown with Spine's own text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from consent_desktop.domain.errors import SpineCode
from consent_desktop.spine import namespaces as ns

DETECTED_ISSUES = {
    "400": "the request was not valid",
    "401": "it repeated an earlier request, so Spine did not act on it",
    "410": "it did not agree with what Spine already holds",
    "420": "Spine does not allow this for your role or for this patient",
    "430": "it was not a valid update",
    "502": "Spine's consent service was not available",
    "35160": "Spine does not recognise this NHS number",
    "30418": "Spine's access controls do not allow access to this record",
}
TMS = {
    "200": "a system failure stopped it being processed",
    "201": "the message was not well formed",
    "206": "it could not be routed or delivered",
    "208": "it could not be stored for processing",
}
NEXT_STEPS = {
    "35160": "Check the number, or find the patient again.",
    "420": "Check you chose the right role; if it keeps happening, ask your IT team.",
    "502": "Try again shortly.",
}
_PSIS_PREFIX = re.compile(r"^\[[A-Z]+-\d+\]\s*-\s*")  # "[PSIS-35160] - " before Spine's own text


def plain(code: SpineCode) -> str:
    """One reason: what it means, and its code."""
    known = (TMS if code.system == ns.TMS_CONTEXT else DETECTED_ISSUES).get(code.code)
    words = known or _PSIS_PREFIX.sub("", code.display).strip() or "a reason Spine did not describe"
    return f"{words} (Spine code {code.code})" if code.code else words


def described(codes: Sequence[SpineCode]) -> str:
    """Every reason, in Spine's order (its general code first), joined for one sentence."""
    return "; ".join(plain(code) for code in codes) or "Spine gave no reason"


def next_step(codes: Sequence[SpineCode]) -> str:
    known = (NEXT_STEPS[c.code] for c in codes if c.code in NEXT_STEPS)
    return next(known, "If it keeps happening, tell your IT team.")
