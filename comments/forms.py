"""The comment form: the text (the service checks it, so the page and the API give the same messages) and, for a
reply, the comment replied to."""

from django import forms


class CommentForm(forms.Form):
    body = forms.CharField(required=False, strip=False, widget=forms.Textarea(attrs={"rows": 3}))
    parent = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
