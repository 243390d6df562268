"""A tenant's colours as a theme the portal can use: each colour paired with the text colour that reads on
it, and a link colour dark enough to read on white (WCAG AA, 4.5:1), whatever the tenant chose."""

from __future__ import annotations

import re

HEX = re.compile(r"^#[0-9a-fA-F]{6}$")
DEFAULT_PRIMARY = "#1f6feb"
DEFAULT_ACCENT = "#0b3d91"
AA = 4.5


def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4


def luminance(colour: str) -> float:
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def contrast(a: str, b: str) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def _text_on(colour: str) -> str:
    return "#ffffff" if contrast(colour, "#ffffff") >= contrast(colour, "#000000") else "#000000"


def _darkened(colour: str, against: str = "#ffffff") -> str:
    """``colour`` darkened step by step until it reads on ``against``."""
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    while contrast(f"#{r:02x}{g:02x}{b:02x}", against) < AA and (r or g or b):
        r, g, b = (max(0, int(v * 0.9)) for v in (r, g, b))
    return f"#{r:02x}{g:02x}{b:02x}"


def _colour(value: str | None, default: str) -> str:
    return value.lower() if isinstance(value, str) and HEX.match(value) else default


def theme_for(branding: dict | None) -> dict[str, str]:
    """CSS custom properties for a tenant's branding (CloudKida's colours when it has none)."""
    branding = branding or {}
    primary = _colour(branding.get("primary_color"), DEFAULT_PRIMARY)
    accent = _colour(branding.get("accent_color"), DEFAULT_ACCENT)
    return {
        "brand": primary,
        "on-brand": _text_on(primary),
        "accent": accent,
        "on-accent": _text_on(accent),
        "link": _darkened(accent),
    }


def theme_css(branding: dict | None) -> str:
    properties = "".join(f"--{name}:{value};" for name, value in theme_for(branding).items())
    return f":root{{{properties}}}\n"
