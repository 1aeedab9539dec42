"""The report form, built from the fields a project's policy asks for."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile

from vulndesk.intake.models import CreditPreference
from vulndesk.intake.submission import (
    MAX_DESCRIPTION,
    MAX_FIELD,
    MAX_TITLE,
    Attachment,
    Submission,
    attachment_limits,
)
from vulndesk.projects.commitments import FIELD_LABELS
from vulndesk.projects.policy import Policy, ReportField

# Who the reporter is comes from the identity fields below, not from free text.
_IDENTITY_FIELDS = {ReportField.IDENTITY, ReportField.AFFILIATION}
_SHORT_FIELDS = {ReportField.ISSUE_TYPE, ReportField.CODE_LOCATION}


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        if not data:
            return []
        files = data if isinstance(data, list | tuple) else [data]
        return [super(MultipleFileField, self).clean(item, initial) for item in files]


class ReportForm(forms.Form):
    title = forms.CharField(
        label="Summary", max_length=MAX_TITLE, help_text="A descriptive subject line, one sentence."
    )
    description = forms.CharField(
        label="Description", max_length=MAX_DESCRIPTION, widget=forms.Textarea(attrs={"rows": 8})
    )
    reporter_name = forms.CharField(label="Your name", max_length=MAX_TITLE, required=False)
    reporter_affiliation = forms.CharField(
        label="Your affiliation or company", max_length=MAX_TITLE, required=False
    )
    anonymous = forms.BooleanField(label="Stay anonymous: do not keep my name or affiliation", required=False)
    reporter_email = forms.EmailField(
        label="Your email address",
        required=False,
        help_text="Optional. We send the acknowledgement and the team's replies here; without it, "
        "keep the tracking link you get after sending.",
    )
    credit = forms.ChoiceField(
        label="How should we credit you?",
        choices=CreditPreference.choices,
        initial=CreditPreference.NAME,
        widget=forms.RadioSelect,
    )
    credit_handle = forms.CharField(label="Handle to credit", max_length=MAX_TITLE, required=False)
    attachments = MultipleFileField(label="Attachments", required=False)
    form_token = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, policy: Policy, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.policy = policy
        for request in policy.reporter_guidance.fields:
            if request.name in _IDENTITY_FIELDS:
                continue
            widget = forms.TextInput() if request.name in _SHORT_FIELDS else forms.Textarea(attrs={"rows": 4})
            self.fields[f"field_{request.name.value}"] = forms.CharField(
                label=FIELD_LABELS[request.name],
                max_length=MAX_FIELD,
                required=request.required,
                widget=widget,
            )
        limits = attachment_limits()
        self.fields["attachments"].help_text = (
            f"Optional: up to {limits.count} files, {limits.each_mb} MB each, "
            f"{limits.total_bytes // 2**20} MB in all. Proof-of-concept scripts, screenshots and packet "
            "captures help; link to anything larger."
        )
        if policy.reporter_guidance.guidelines:
            self.fields["accepted_guidelines"] = forms.BooleanField(
                label="I have read and accept the guidelines for reporters above", required=True
            )

    def clean_attachments(self) -> list[UploadedFile]:
        uploads: list[UploadedFile] = self.cleaned_data["attachments"]
        limits = attachment_limits()
        if len(uploads) > limits.count:
            raise forms.ValidationError(f"Attach at most {limits.count} files.")
        for upload in uploads:
            if (upload.size or 0) > limits.each_bytes:
                raise forms.ValidationError(
                    f"{upload.name} is larger than {limits.each_mb} MB; link to it instead."
                )
        return uploads

    def policy_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if name.startswith("field_")]

    def to_submission(self) -> Submission:
        data = self.cleaned_data
        return Submission(
            title=data["title"],
            description=data["description"],
            fields={
                name.removeprefix("field_"): value
                for name, value in data.items()
                if name.startswith("field_")
            },
            reporter_name=data["reporter_name"],
            reporter_affiliation=data["reporter_affiliation"],
            reporter_email=data["reporter_email"],
            anonymous=data["anonymous"],
            credit=data["credit"],
            credit_handle=data["credit_handle"],
            accepted_guidelines=data.get("accepted_guidelines", True),
            attachments=[
                Attachment(
                    filename=upload.name or "attachment",
                    content_type=upload.content_type or "application/octet-stream",
                    content=upload.read(),
                )
                for upload in data["attachments"]
            ],
        )
