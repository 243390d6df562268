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
