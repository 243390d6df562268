"""Validation of values every app accepts: email addresses and ISO 3166 country codes."""

from __future__ import annotations

import re
from functools import cache

import iso3166

from cloudkida.errors import ValidationFailed

EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


def validate_email(email: str) -> str:
    email = (email or "").strip().lower()
    if len(email) > 254 or not EMAIL_RE.match(email):
        raise ValidationFailed("Enter a valid email address.", code="invalid_email", details={"email": email[:254]})
    return email


@cache
def country_codes() -> dict[str, str]:
    """ISO 3166-1 alpha-2 code → country name, from the maintained ``iso3166`` package (9 kB, no
    translations, so the Lambda package stays small)."""
    return {code: country.name for code, country in iso3166.countries_by_alpha2.items()}


def validate_country(country: str) -> str:
    """The upper-cased ISO 3166-1 alpha-2 code, if it names a country."""
    code = (country or "").strip().upper()
    if code not in country_codes():
        raise ValidationFailed(
            "Country must be a two-letter ISO 3166 country code, such as GB, IN or US.",
            code="invalid_country",
            details={"country": code[:8]},
        )
    return code


# AWS commercial regions a lab may run in (policies and labs name them; anything else is a typo).
AWS_REGIONS = frozenset(
    {
        "us-east-1",
        "us-east-2",
        "us-west-1",
        "us-west-2",
        "af-south-1",
        "ap-east-1",
        "ap-south-1",
        "ap-south-2",
        "ap-southeast-1",
        "ap-southeast-2",
        "ap-southeast-3",
        "ap-southeast-4",
        "ap-northeast-1",
        "ap-northeast-2",
        "ap-northeast-3",
        "ca-central-1",
        "ca-west-1",
        "eu-central-1",
        "eu-central-2",
        "eu-west-1",
        "eu-west-2",
        "eu-west-3",
        "eu-south-1",
        "eu-south-2",
        "eu-north-1",
        "il-central-1",
        "me-south-1",
        "me-central-1",
        "sa-east-1",
    }
)


def validate_regions(regions: list[str] | None, *, field: str = "allowed_regions") -> list[str] | None:
    """Sorted, de-duplicated AWS region names, or None; ValidationFailed naming any unknown one."""
    if regions is None:
        return None
    cleaned = sorted({str(r).strip().lower() for r in regions})
    unknown = [r for r in cleaned if r not in AWS_REGIONS]
    if unknown:
        raise ValidationFailed(
            f"Unknown AWS region: {', '.join(unknown[:5])}.",
            code="invalid_region",
            details={"field": field, "unknown": unknown},
        )
    return cleaned
