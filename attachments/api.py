"""Evidence files in the API under /api/v1/o/<org_slug>/: list and add (multipart) the files of a measurement, action
item or session (`measurements/<id>/files/`, `action-items/<id>/files/`, `sessions/<id>/files/`), read one file's
details, download its bytes and remove it (`files/<id>/`, `files/<id>/download/`). The same doors as the pages
(attachments/access.py): 404 for another organization's ids, 403 for a role that may not read, add or remove."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, generics, serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.reverse import reverse

from attachments import access, selectors, services
from attachments.models import EvidenceFile
from attachments.sniffing import ALLOWED_TEXT
from attachments.uploads import limit_text, limit_upload, too_large_message
from attachments.views import file_response
from bsc.api.base import OrganizationScopedMixin


class EvidenceFileSerializer(serializers.ModelSerializer):
    kind = serializers.CharField(source="target_kind", read_only=True, help_text="measurement, action-item or session")
    target = serializers.IntegerField(source="target_id", read_only=True, help_text="The id of what it is added to.")
    added_by_name = serializers.SerializerMethodField()
    download = serializers.SerializerMethodField(help_text="The address of the file's bytes.")

    class Meta:
        model = EvidenceFile
        fields = [
            "id", "kind", "target", "name", "content_type", "size", "added_by", "added_by_name", "added_at", "download",
        ]  # fmt: skip
        read_only_fields = fields

    def get_added_by_name(self, evidence: EvidenceFile) -> str:
        return evidence.added_by.display_name if evidence.added_by else ""

    def get_download(self, evidence: EvidenceFile) -> str:
        slug = self.context["organization"].slug
        return reverse("api_evidence_file_download", args=[slug, evidence.pk], request=self.context.get("request"))


class EvidenceFileUploadSerializer(serializers.Serializer):
    file = serializers.FileField(
        help_text=f"{ALLOWED_TEXT}, at most {limit_text()}; the type is read from the content."
    )


class EvidenceScopedMixin(OrganizationScopedMixin):
    """Writes are checked on the target or the file (attachments/access.py), not by one matrix row for the view."""

    queryset = EvidenceFile.objects.none()

    def check_write_permission(self) -> None:
        pass


class EvidenceFileListApi(EvidenceScopedMixin, generics.GenericAPIView):
    """The files of one measurement, action item or session, oldest first; POST adds one (multipart/form-data, the
    field `file`)."""

    serializer_class = EvidenceFileSerializer
    parser_classes = [MultiPartParser]
    pagination_class = None
    kind = ""

    def initialize_request(self, request, *args, **kwargs):
        # Before authentication's CSRF check or the parser reads the body.
        self.size_limit = limit_upload(request)
        return super().initialize_request(request, *args, **kwargs)

    def target(self, *, write: bool = False):
        return access.get_target_for_member(
            self.organization, self.membership, self.kind, self.kwargs["pk"], write=write
        )

    @extend_schema(responses={200: EvidenceFileSerializer(many=True)})
    def get(self, request, *args, **kwargs):
        files = selectors.evidence_files(organization=self.organization, kind=self.kind, target=self.target())
        return Response(self.get_serializer(files, many=True).data)

    @extend_schema(
        request={"multipart/form-data": EvidenceFileUploadSerializer}, responses={201: EvidenceFileSerializer}
    )
    def post(self, request, *args, **kwargs):
        target = self.target(write=True)
        upload = EvidenceFileUploadSerializer(data=request.data)  # reads the body, within the size limit
        if self.size_limit.too_large:
            raise exceptions.ValidationError({"file": [too_large_message()]})
        upload.is_valid(raise_exception=True)
        try:
            evidence = services.evidence_file_add(
                target=target, kind=self.kind, upload=upload.validated_data["file"], by=request.user
            )
        except DjangoValidationError as error:
            raise exceptions.ValidationError({"file": error.messages}) from None
        return Response(self.get_serializer(evidence).data, status=status.HTTP_201_CREATED)


class EvidenceFileDetailApi(EvidenceScopedMixin, generics.GenericAPIView):
    """One file's details; DELETE removes it (its author or an admin)."""

    serializer_class = EvidenceFileSerializer

    def get(self, request, *args, pk: int, **kwargs):
        evidence = access.get_file_for_member(self.organization, self.membership, pk)
        return Response(self.get_serializer(evidence).data)

    @extend_schema(responses={204: None})
    def delete(self, request, *args, pk: int, **kwargs):
        evidence = access.get_file_for_member(self.organization, self.membership, pk, remove=True)
        services.evidence_file_remove(evidence=evidence)
        return Response(status=status.HTTP_204_NO_CONTENT)


class EvidenceFileDownloadApi(EvidenceScopedMixin, generics.GenericAPIView):
    """The file's bytes, with the type sniffed when it was added (images inline, the rest as a download)."""

    serializer_class = None

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY)})
    def get(self, request, *args, pk: int, **kwargs):
        return file_response(access.get_file_for_member(self.organization, self.membership, pk))


def _list(kind: str):
    view = type(f"EvidenceFileList{kind.title().replace('-', '')}Api", (EvidenceFileListApi,), {"kind": kind})
    return view.as_view()


urls = [
    path("measurements/<int:pk>/files/", _list("measurement"), name="api_measurement_files"),
    path("action-items/<int:pk>/files/", _list("action-item"), name="api_action_item_files"),
    path("sessions/<int:pk>/files/", _list("session"), name="api_session_files"),
    path("files/<int:pk>/", EvidenceFileDetailApi.as_view(), name="api_evidence_file"),
    path("files/<int:pk>/download/", EvidenceFileDownloadApi.as_view(), name="api_evidence_file_download"),
]
