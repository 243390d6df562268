from django import forms

from tenants.domain import Tier
from tenants.plans import plan_list


def _tier_choices() -> list[tuple[str, str]]:
    """Each tier with the price in force (through billing's price book, when it is installed)."""
    return [
        (p.tier.value, f"{p.display_name} — ${p.monthly_fee_usd}/month, {p.included_lab_minutes:,} lab minutes")
        for p in plan_list()
    ]


class SignupForm(forms.Form):
    name = forms.CharField(label="Organisation name", max_length=100)
    slug = forms.CharField(label="Subdomain", max_length=40, help_text="3–40 lower-case letters, digits or hyphens")
    admin_name = forms.CharField(label="Your name", max_length=100)
    admin_email = forms.EmailField(label="Your work email", max_length=254)
    tier = forms.ChoiceField(choices=_tier_choices, initial=Tier.BASIC.value)
    country = forms.CharField(label="Country (two-letter code)", min_length=2, max_length=2)
    phone = forms.CharField(max_length=40, required=False)
    address = forms.CharField(max_length=300, required=False, widget=forms.Textarea(attrs={"rows": 2}))
    # One key per rendering of the form: a second submission of it replays the first (see views.signup).
    submission = forms.CharField(max_length=64, widget=forms.HiddenInput)
