"""TXT look-ups for proving control of a domain, with an injectable resolver.

``CLOUDKIDA_DNS_RESOLVER`` picks it: ``dns`` asks the public DNS through dnspython (production);
``static`` answers from ``CLOUDKIDA_DNS_STATIC_RECORDS`` — a dict, or the path of a JSON file mapping a
name to its TXT strings (``make run``, where ``.local/dns.json`` can be edited by hand, and tests).
A lookup never raises for a name that has no records: it answers [] and the caller says what to add.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.conf import settings

from cloudkida.errors import ServiceUnavailable
from cloudkida.lazy import lazy_module

resolver = lazy_module("dns.resolver")
dns_exception = lazy_module("dns.exception")


def txt_records(name: str) -> list[str]:
    """The TXT strings published at ``name`` (each record's strings joined, as DNS clients show them)."""
    name = name.strip().lower().rstrip(".")
    resolver = settings.CLOUDKIDA_DNS_RESOLVER
    if resolver == "static":
        return _static_records().get(name, [])
    if resolver != "dns":
        raise ValueError(f"unknown CLOUDKIDA_DNS_RESOLVER {resolver!r}; use dns or static")
    try:
        answer = resolver.resolve(name, "TXT", lifetime=settings.CLOUDKIDA_DNS_TIMEOUT)
    except (resolver.NXDOMAIN, resolver.NoAnswer, resolver.NoNameservers):
        return []
    except dns_exception.DNSException as error:
        raise ServiceUnavailable(
            "DNS did not answer in time; try the verification again shortly.", code="dns_unavailable"
        ) from error
    return [b"".join(record.strings).decode("utf-8", "replace") for record in answer]


def _static_records() -> dict[str, list[str]]:
    source = settings.CLOUDKIDA_DNS_STATIC_RECORDS
    if isinstance(source, dict):
        records = source
    else:
        path = Path(source)
        records = json.loads(path.read_text()) if source and path.exists() else {}
    return {k.strip().lower().rstrip("."): [str(v) for v in values] for k, values in records.items()}
