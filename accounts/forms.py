from django import forms


class LearnerSignupForm(forms.Form):
    name = forms.CharField(label="Your name", max_length=100)
    email = forms.EmailField(label="Email", max_length=254)


class ApiKeyForm(forms.Form):
    name = forms.CharField(label="Name", max_length=80, help_text="What uses it, e.g. “HR sync” or “LMS”.")
    scope = forms.ChoiceField(
        label="Scope",
        choices=[
            ("read", "Read — see people, groups and the organisation"),
            ("write", "Write — also invite and rename people"),
            ("admin", "Admin — also grant administrator and disable people"),
        ],
        initial="read",
        widget=forms.RadioSelect,
    )


ROLE_CHOICES = [("TenantUser", "Learner"), ("TenantAdmin", "Administrator")]
STATUS_CHOICES = [("ACTIVE", "Active"), ("DISABLED", "Disabled")]


class InviteForm(forms.Form):
    email = forms.EmailField(label="Email", max_length=254)
    name = forms.CharField(label="Name", max_length=100)
    role = forms.ChoiceField(label="Role", choices=ROLE_CHOICES, initial="TenantUser")


class UserFilterForm(forms.Form):
    q = forms.CharField(label="Search name or email", max_length=100, required=False)
    role = forms.ChoiceField(label="Role", choices=[("", "Any role"), *ROLE_CHOICES], required=False)
    status = forms.ChoiceField(label="Status", choices=[("", "Any status"), *STATUS_CHOICES], required=False)


class VersionedForm(forms.Form):
    version = forms.IntegerField(min_value=0, widget=forms.HiddenInput)


class RoleForm(VersionedForm):
    role = forms.ChoiceField(label="Role", choices=ROLE_CHOICES)


class StatusForm(VersionedForm):
    status = forms.ChoiceField(choices=STATUS_CHOICES)


class ImportForm(forms.Form):
    file = forms.FileField(label="CSV file", help_text="UTF-8 CSV with the template's columns; up to 10,000 rows.")


class GroupForm(forms.Form):
    name = forms.CharField(label="Name", max_length=100)
    description = forms.CharField(label="Description", max_length=300, required=False)


class GroupRenameForm(GroupForm, VersionedForm):
    pass


class MemberForm(forms.Form):
    email = forms.EmailField(label="Email of a person in your organisation", max_length=254)


class PolicyForm(VersionedForm):
    allowed_lab_ids = forms.CharField(
        label="Labs allowed",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Lab ids, one per line or separated by commas. Leave empty to allow every lab.",
    )
    max_concurrent_labs = forms.IntegerField(
        label="Labs at once, per person", required=False, help_text="Empty: no limit."
    )
    monthly_lab_minutes = forms.IntegerField(
        label="Lab minutes per person per month", required=False, help_text="Empty: no limit."
    )
    allowed_regions = forms.MultipleChoiceField(
        label="AWS regions allowed",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Tick none to allow every region a lab runs in.",
    )

    def __init__(self, *args, regions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["allowed_regions"].choices = [(r, r) for r in regions]

    def policy_fields(self) -> dict:
        """The cleaned form as ``policy_set`` takes it: empty means no restriction (None)."""
        data = self.cleaned_data
        lab_ids = [v.strip() for v in data["allowed_lab_ids"].replace(",", "\n").splitlines() if v.strip()]
        return {
            "allowed_lab_ids": lab_ids or None,
            "max_concurrent_labs": data["max_concurrent_labs"],
            "monthly_lab_minutes": data["monthly_lab_minutes"],
            "allowed_regions": list(data["allowed_regions"]) or None,
        }


class AuditFilterForm(forms.Form):
    action = forms.ChoiceField(label="Action", required=False)
    actor = forms.CharField(label="Actor", max_length=200, required=False, help_text="e.g. TenantAdmin:ada@…")
    since = forms.DateField(label="From", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label="To", required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, actions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["action"].choices = [("", "Any action"), *((a, a) for a in actions)]

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            self.add_error("until", "The end must not be before the start.")
        return data


class BrandingForm(VersionedForm):
    display_name = forms.CharField(label="Display name", max_length=100)
    primary_color = forms.CharField(
        label="Primary colour", max_length=7, widget=forms.TextInput(attrs={"type": "color"}), help_text="The top bar."
    )
    accent_color = forms.CharField(
        label="Accent colour", max_length=7, widget=forms.TextInput(attrs={"type": "color"}), help_text="Buttons."
    )
    support_email = forms.CharField(label="Support email", max_length=254, required=False)
    support_url = forms.CharField(label="Support web address", max_length=200, required=False)
    login_message = forms.CharField(
        label="Sign-in page message",
        max_length=500,
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Shown on your sign-in page, at most 500 characters.",
    )


class AssetForm(forms.Form):
    file = forms.FileField(label="Image", help_text="PNG, JPEG or WebP, at most 1 MB. SVG is not accepted.")


class DomainForm(forms.Form):
    domain = forms.CharField(label="Domain", max_length=253, help_text="e.g. learn.example.com")
