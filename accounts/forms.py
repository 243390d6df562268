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
