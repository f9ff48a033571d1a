"""Credentials by reference: a source URL never carries its password into DAG-run conf, argv, XCom,
the manifest or MLflow.

A source is given as

- ``env:VAR``: the whole URL is in environment variable ``VAR`` (e.g. a Kubernetes secret);
- a URL with ``${VAR}`` parts, e.g. ``postgresql://etl:${ERP_PASSWORD}@erp:5432/erp``;
- ``conn:ID``: an Airflow connection (resolved by the application layer, ``co2plan.pipeline``);
- a URL without a password (``PGPASSWORD``, ``~/.pgpass`` or trust/IAM auth supply it).

A URL with a password written into it is refused (:func:`check_reference`): it would be stored in
clear in Airflow's ``dag_run.conf`` and visible in the process list.
"""

from __future__ import annotations

import os
import re

__all__ = ["INLINE_PASSWORD_PATTERN", "has_inline_password", "mask_url", "expand", "check_reference",
           "REFERENCE_HELP"]

#: a URL with ``user:password@`` whose password is not a ``${VAR}`` reference (also the Param's schema)
INLINE_PASSWORD_PATTERN = r"^[A-Za-z][A-Za-z0-9+.-]*://[^/@:]*:(?!\$\{)[^/@]+@"

REFERENCE_HELP = ("pass credentials by reference: env:VAR (the URL in an environment variable), ${VAR} for the "
                  "password inside the URL, conn:ID (an Airflow connection), or PGPASSWORD/.pgpass")

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def has_inline_password(source: str) -> bool:
    return bool(re.match(INLINE_PASSWORD_PATTERN, source or ""))


def mask_url(url: str) -> str:
    """``scheme://user:***@host...``: the password (if any) replaced."""
    return re.sub(r"^([A-Za-z][A-Za-z0-9+.-]*://[^/@:]*:)[^/@]+@", r"\1***@", url or "")


def check_reference(source: str) -> str:
    """``source`` unchanged if it holds no inline password, else ``ValueError`` saying how to pass it."""
    if has_inline_password(source):
        raise ValueError(f"source {mask_url(source)} has a password written into it; {REFERENCE_HELP}")
    return source


def expand(source: str, environ: dict[str, str] | None = None) -> tuple[str, list[str]]:
    """(the usable URL, the secret values in it) for ``env:VAR`` and ``${VAR}`` references."""
    env = os.environ if environ is None else environ
    secrets: list[str] = []

    def get(name: str) -> str:
        if name not in env:
            raise ValueError(f"source refers to environment variable {name}, which is not set in the task's "
                             "environment")
        return env[name]

    if source.startswith("env:"):
        url = get(source[4:])
        m = re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://[^/@:]*:([^/@]+)@", url)
        secrets += [m.group(1)] if m else []
        return url, secrets
    def sub(m: re.Match) -> str:
        value = get(m.group(1))
        secrets.append(value)
        return value

    return _VAR.sub(sub, source), secrets
