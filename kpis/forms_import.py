"""The upload form of the measurement import."""

from django import forms

from kpis.imports import MAX_BYTES


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label="File (.csv or .xlsx)",
        help_text="Columns: kpi code, period (YYYY-MM), value, and optionally comment, with a header row. "
        "Rows without a value are skipped.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx"}),
    )
    decimal_separator = forms.ChoiceField(
        label="Decimal separator in the file",
        choices=[(".", "Point: 1234.5"), (",", "Comma: 1234,5")],
        initial=".",
        widget=forms.RadioSelect,
        help_text="Number cells of a workbook need no separator.",
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith((".csv", ".xlsx")):
            raise forms.ValidationError("Upload a .csv or .xlsx file.")
        if upload.size > MAX_BYTES:
            raise forms.ValidationError(
                f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB; split it into smaller files."
            )
        return upload


def read_causes(data) -> tuple[dict[int, str], bool]:
    """The preview's causes of red values, by row index (`cause-<index>`), and whether the person chose to import
    the others as "cause missing"."""
    given = {
        int(name.removeprefix("cause-")): text
        for name, text in data.items()
        if name.startswith("cause-") and name.removeprefix("cause-").isdigit()
    }
    return given, data.get("cause_missing") == "on"
