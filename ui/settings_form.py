"""One input per runtime setting, and the edited values back as a change set.

Structured settings (mappings, ranges, thresholds) are edited as JSON and validated by
the same ``SettingsService.validate`` as every other write, so the page never has its
own rules. Secrets are write-only: the input starts empty and empty means unchanged.
"""

from __future__ import annotations

import json
from typing import Any

import streamlit as st

from monitoring.drift.registry import REGISTRY
from monitoring.errors import ValidationError
from monitoring.settings import Spec

JSON_KINDS = ("mapping", "ranges", "thresholds")
CLEAR = object()  # a secret the admin asked to remove
METHODS_HELP = " Methods: " + "; ".join(
    f"{m.name} ({m.display_name}, {'drift above' if m.higher_means_drift else 'p-value, drift below'})"
    for m in REGISTRY) + ". The drift page shows each calibrated threshold."


def shown(spec: Spec, value: Any) -> str:
    """A setting's value as text for read-only views (secrets never shown)."""
    if spec.secret:
        return "configured" if value else "not set"
    if spec.kind == "fields":
        return ", ".join(value)
    if spec.kind in JSON_KINDS:
        return json.dumps(value, sort_keys=True)
    return str(value)


def widget(spec: Spec, value: Any) -> Any:
    """Draw the input for one setting (inside a form) and return its raw edited value."""
    key = f"setting_{spec.key}"
    if spec.kind == "bool":
        return st.toggle(spec.label, value=bool(value), help=spec.help or None, key=key)
    if spec.kind == "choice":
        return st.selectbox(spec.label, spec.choices, index=spec.choices.index(value), key=key,
                            help=spec.help or None)
    if spec.kind in ("int", "float"):
        integer = spec.kind == "int"
        cast = int if integer else float
        return st.number_input(spec.label, min_value=cast(spec.low) if spec.low is not None else None,
                               max_value=cast(spec.high) if spec.high is not None else None,
                               value=cast(value), step=1 if integer else None, key=key,
                               help=spec.help or None, format=None if integer else "%g")
    if spec.kind == "fields":
        return st.text_input(spec.label, value=", ".join(value), key=key,
                             help=(spec.help + " " if spec.help else "") + "Comma-separated.")
    if spec.kind in JSON_KINDS:
        extra = METHODS_HELP if spec.kind == "thresholds" else ""
        return st.text_area(spec.label, value=json.dumps(value, indent=1, sort_keys=True), key=key,
                            help=(spec.help + " " if spec.help else "") + "JSON." + extra, height=120)
    if spec.secret:
        typed = st.text_input(spec.label, value="", type="password", key=key,
                              placeholder="configured: type to replace" if value else "not set",
                              help=(spec.help + " " if spec.help else "") + "Write-only; empty keeps it.")
        if value and st.checkbox(f"Remove the {spec.label}", key=f"{key}_clear"):
            return CLEAR
        return typed
    return st.text_input(spec.label, value=str(value), key=key, help=spec.help or None)


def changes(specs: list[Spec], edited: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
    """Only what differs from the current values; JSON text parsed with a clear message."""
    out: dict[str, Any] = {}
    problems = []
    for spec in specs:
        raw = edited[spec.key]
        if raw is CLEAR:
            out[spec.key] = ""
            continue
        if spec.secret and not raw:
            continue
        if spec.kind in JSON_KINDS:
            try:
                raw = json.loads(raw)
            except ValueError as exc:
                problems.append(f"{spec.label}: not valid JSON ({exc.msg} at line {exc.lineno})")
                continue
        if spec.kind == "fields" and isinstance(raw, str):
            raw = [part.strip() for part in raw.split(",") if part.strip()]
        if raw != current.get(spec.key):
            out[spec.key] = raw
    if problems:
        raise ValidationError("; ".join(problems))
    return out
