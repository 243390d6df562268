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
