"""A tenant's branding: the fields, CloudKida's defaults, and the checks every value and image passes.

Pure (no AWS): ``tenants.services.branding`` stores what passes, ``tenants.selectors.branding_for``
resolves what pages and emails show.

Images (logo, favicon) are checked by their content with Pillow, never by name or declared type: only
PNG, JPEG and WebP, at most ``MAX_IMAGE_BYTES`` and ``MAX_PIXELS``, fully decoded (a truncated or forged
file fails), then re-encoded, which drops metadata and anything appended to the image. SVG is refused:
it is a document that can carry scripts and links, and a tenant's logo is shown to every other user.
"""

from __future__ import annotations

import io
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from cloudkida.errors import ValidationFailed
from cloudkida.lazy import lazy_module
from cloudkida.validation import validate_email

Image = lazy_module("PIL.Image")  # only an upload needs Pillow

MAX_IMAGE_BYTES = 1_000_000
MAX_PIXELS = {"logo": 4096 * 4096, "favicon": 1024 * 1024}
ASSETS = ("logo", "favicon")
IMAGE_TYPES = {"PNG": ("image/png", "png"), "JPEG": ("image/jpeg", "jpg"), "WEBP": ("image/webp", "webp")}
MAX_LOGIN_MESSAGE = 500
HEX_COLOUR = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")

# What a tenant with no branding shows: CloudKida's own (the colours of the portal's stylesheet,
# cloudkida/static/cloudkida/app.css, its favicon, and no logo image: the name is shown instead).
DEFAULTS = {
    "primary_color": "#1f6feb",
    "accent_color": "#0b3d91",
    "support_email": "support@cloudkida.com",
    "support_url": "https://cloudkida.com/support",
    "login_message": "",
    "logo_url": "",
    "favicon_url": "/static/cloudkida/favicon.svg",
}
TEXT_FIELDS = ("display_name", "primary_color", "accent_color", "support_email", "support_url", "login_message")


def _invalid(field: str, message: str, code: str = "invalid_branding") -> ValidationFailed:
    return ValidationFailed(message, code=code, details={"field": field})


def validate_colour(value: str, field: str) -> str:
    value = (value or "").strip()
    if not HEX_COLOUR.match(value):
        raise _invalid(field, "Give a colour as a hex value such as #1f6feb.", "invalid_colour")
    if len(value) == 4:
        value = "#" + "".join(c * 2 for c in value[1:])
    return value.lower()


def validate_url(value: str, field: str) -> str:
    value = (value or "").strip()
    if len(value) > 200 or not re.match(r"^https?://[A-Za-z0-9.-]+(:\d+)?(/[^\s<>\"']*)?$", value):
        raise _invalid(field, "Give a web address starting with https:// (at most 200 characters).", "invalid_url")
    return value


def plain_text(value: str, field: str, *, limit: int) -> str:
    """Plain text: control characters removed (line breaks kept, at most two in a row), trimmed."""
    value = "".join(c for c in (value or "") if c in "\n" or unicodedata.category(c)[0] != "C")
    value = re.sub(r"\n{3,}", "\n\n", value.replace("\r", "")).strip()
    if len(value) > limit:
        raise _invalid(field, f"At most {limit} characters.", "too_long")
    return value


def validate_fields(fields: dict[str, str]) -> dict[str, str]:
    """The branding text fields, cleaned; "" clears a field (its default applies again)."""
    unknown = set(fields) - set(TEXT_FIELDS)
    if unknown:
        raise ValidationFailed(
            "These branding fields do not exist.", code="read_only_field", details={"fields": sorted(unknown)}
        )
    cleaned = {}
    for field, value in fields.items():
        value = "" if value is None else str(value)
        if not value.strip():
            cleaned[field] = ""
        elif field in {"primary_color", "accent_color"}:
            cleaned[field] = validate_colour(value, field)
        elif field == "support_email":
            try:
                cleaned[field] = validate_email(value)
            except ValidationFailed as error:
                raise _invalid(field, "Enter a valid email address.", "invalid_email") from error
        elif field == "support_url":
            cleaned[field] = validate_url(value, field)
        elif field == "display_name":
            name = plain_text(value, field, limit=100).replace("\n", " ")
            if len(name) < 2:
                raise _invalid(field, "The display name must be 2 to 100 characters.", "invalid_name")
            cleaned[field] = name
        else:
            cleaned[field] = plain_text(value, field, limit=MAX_LOGIN_MESSAGE)
    return cleaned


@dataclass(frozen=True)
class CheckedImage:
    data: bytes  # re-encoded
    content_type: str
    extension: str
    width: int
    height: int


def _refuse(asset: str, message: str, code: str = "invalid_image") -> ValidationFailed:
    return ValidationFailed(message, code=code, details={"field": asset})


def check_image(asset: str, data: bytes) -> CheckedImage:
    """The image, if it really is a PNG, JPEG or WebP within the limits, re-encoded; else a 400 saying why."""
    if asset not in ASSETS:
        raise _refuse(asset, "Upload a logo or a favicon.", "invalid_asset")
    if len(data) > MAX_IMAGE_BYTES:
        raise _refuse(asset, f"The image is larger than {MAX_IMAGE_BYTES // 1_000_000} MB.", "image_too_large")
    head = data[:512].lstrip().lower()
    if head.startswith((b"<svg", b"<?xml", b"<!doctype svg")) or b"<svg" in head:
        raise _refuse(
            asset,
            "SVG images are not accepted: an SVG can carry scripts and links. Upload a PNG, JPEG or WebP.",
            "svg_not_allowed",
        )
    try:
        with Image.open(io.BytesIO(data), formats=list(IMAGE_TYPES)) as image:
            fmt, (width, height) = image.format, image.size
            if width * height > MAX_PIXELS[asset]:
                raise _refuse(asset, f"The image is too large ({width}×{height} pixels).", "image_too_large")
            image.verify()
        with Image.open(io.BytesIO(data), formats=[fmt]) as image:
            image.load()
            data = _reencode(image, fmt)
    except ValidationFailed:
        raise
    except (Image.UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        kind = "a GIF" if data[:4] == b"GIF8" else "not a PNG, JPEG or WebP image (or it is damaged)"
        raise _refuse(asset, f"This file is {kind}. Upload a PNG, JPEG or WebP.", "invalid_image") from error
    content_type, extension = IMAGE_TYPES[fmt]
    return CheckedImage(data=data, content_type=content_type, extension=extension, width=width, height=height)


def _reencode(image: Any, fmt: str) -> bytes:
    out = io.BytesIO()
    if fmt == "JPEG":
        image.convert("RGB").save(out, "JPEG", quality=90, optimize=True)
    elif fmt == "WEBP":
        image.save(out, "WEBP", quality=90)
    else:
        if image.mode not in {"RGB", "RGBA", "L", "LA", "P"}:
            image = image.convert("RGBA")
        image.save(out, "PNG", optimize=True)
    return out.getvalue()


# Cognito's hosted UI takes CSS for a fixed set of classes (and a logo of at most 100 KB, PNG or JPEG).
HOSTED_UI_LOGO_MAX_BYTES = 100 * 1024
HOSTED_UI_LOGO_TYPES = frozenset({"image/png", "image/jpeg"})


def hosted_ui_css(brand: dict) -> str:
    """The tenant's colours as CSS for Cognito's hosted UI (its ``-customizable`` classes only)."""
    primary, accent = brand["primary_color"], brand["accent_color"]
    return "\n".join(
        (
            f".banner-customizable {{ background-color: {primary}; }}",
            f".submitButton-customizable {{ background-color: {primary}; border-color: {primary}; }}",
            f".submitButton-customizable:hover {{ background-color: {accent}; border-color: {accent}; }}",
            f".inputField-customizable:focus {{ border-color: {primary}; }}",
            f".redirect-customizable {{ color: {accent}; }}",
        )
    )
