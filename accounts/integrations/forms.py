from django import forms

from cloudkida import events


def _event_choices():
    return [("*", "Every event")] + [(t.name, f"{t.name} — {t.description}") for t in events.catalogue()]


class EndpointForm(forms.Form):
    url = forms.CharField(label="URL", max_length=2000, help_text="An https:// address of your receiver.")
    description = forms.CharField(label="Description", max_length=200, required=False)
    contact_email = forms.EmailField(
        label="Contact email", required=False, help_text="Told if the endpoint fails for a day; default: you."
    )
    event_types = forms.MultipleChoiceField(label="Events", choices=(), widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["event_types"].choices = _event_choices()


class EndpointActionForm(forms.Form):
    action = forms.ChoiceField(
        choices=[("rotate", "rotate"), ("enable", "enable"), ("disable", "disable"), ("delete", "delete")]
    )
    version = forms.IntegerField(min_value=1)


class IdentityProviderForm(forms.Form):
    """Connect an OIDC identity provider from the portal (SAML: through the API)."""

    display_name = forms.CharField(
        label="Name shown on the sign-in page", max_length=60, help_text='People see "Continue with <name>".'
    )
    issuer = forms.CharField(label="Issuer URL", max_length=500, help_text="e.g. https://login.acme.com/realms/staff")
    client_id = forms.CharField(label="Client ID", max_length=255)
    client_secret = forms.CharField(
        label="Client secret", max_length=1000, widget=forms.PasswordInput, help_text="Kept by Cognito only."
    )
    email_domains = forms.CharField(
        label="Email domains",
        max_length=1000,
        required=False,
        help_text="Comma-separated; people with these addresses go straight to this provider.",
    )
    default_role = forms.ChoiceField(
        label="Role of people signing in for the first time",
        choices=[("TenantUser", "Learner (TenantUser)"), ("TenantAdmin", "Administrator (TenantAdmin)")],
        initial="TenantUser",
    )

    def domains(self) -> list[str]:
        return [d.strip() for d in self.cleaned_data.get("email_domains", "").replace(";", ",").split(",") if d.strip()]
