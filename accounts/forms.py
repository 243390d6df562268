from django import forms


class LearnerSignupForm(forms.Form):
    name = forms.CharField(label="Your name", max_length=100)
    email = forms.EmailField(label="Email", max_length=254)
