"""Review packs in the API under /api/v1/o/<org_slug>/review-packs/ (issue 16): ask for a pack (202 with its id and
progress; asked again while it is being made, the same pack), read one pack's progress, list them, and download
its PDF or spreadsheet once ready. Admins, executives and coaches only (a pack carries coaching notes)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, generics, permissions, serializers, status
from rest_framework.response import Response
from rest_framework.reverse import reverse

from bsc import org_calendar
from bsc.api.base import OrganizationScopedMixin
from bsc.models import OrgUnit
from bsc.permissions import REVIEW_PACKS, may_review_packs
from coaching import review_packs
from coaching.models import ReviewPack, ReviewPackStatus
from coaching.views_review_packs import FILES, review_pack_file_response
from kpis.api import PeriodField


class ReviewPackUnitSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)


class ReviewPackSerializer(serializers.ModelSerializer):
    """A pack and its progress; the file links appear when it is ready."""

    unit = ReviewPackUnitSerializer(read_only=True)
    kind = serializers.ChoiceField(source="period_kind", choices=list(org_calendar.KINDS), read_only=True)
    period = PeriodField(read_only=True, help_text="The period's first month.")
    label = serializers.SerializerMethodField(help_text="'Oct 2026', 'Q3 2026', 'FY 2026'.")
    status = serializers.ChoiceField(choices=ReviewPackStatus.choices, read_only=True)
    progress = serializers.IntegerField(read_only=True, min_value=0, max_value=100, help_text="0 to 100.")
    step = serializers.CharField(read_only=True, help_text="What the build is doing now (empty when it ended).")
    error = serializers.CharField(read_only=True, help_text="Why the build failed (empty otherwise).")
    pages = serializers.IntegerField(source="pdf_pages", read_only=True, allow_null=True)
    pdf = serializers.SerializerMethodField(help_text="The PDF's address once ready, else null.")
    xlsx = serializers.SerializerMethodField(help_text="The spreadsheet's address once ready, else null.")

    class Meta:
        model = ReviewPack
        fields = [
            "id", "unit", "kind", "period", "label", "status", "progress", "step", "error", "pages", "pdf", "xlsx",
            "created_at", "finished_at", "expires_at",
        ]  # fmt: skip
        read_only_fields = fields

    def get_label(self, pack: ReviewPack) -> str:
        return org_calendar.period_label(
            pack.period_kind, pack.period, self.context["organization"].fiscal_year_start_month
        )

    def _file(self, pack: ReviewPack, file: str) -> str | None:
        if pack.status != ReviewPackStatus.DONE:
            return None
        slug = self.context["organization"].slug
        return reverse("api_review_pack_file", args=[slug, pack.pk, file], request=self.context.get("request"))

    def get_pdf(self, pack: ReviewPack) -> str | None:
        return self._file(pack, "pdf")

    def get_xlsx(self, pack: ReviewPack) -> str | None:
        return self._file(pack, "xlsx")


class ReviewPackRequestSerializer(serializers.Serializer):
    unit = serializers.IntegerField(min_value=1, help_text="The unit whose pack to make.")
    kind = serializers.ChoiceField(choices=list(org_calendar.KINDS), default=org_calendar.MONTH)
    period = PeriodField(help_text="YYYY-MM: the period's first month (a quarter or year by its first month).")


class ReviewPackScopedMixin(OrganizationScopedMixin):
    """Reading a pack needs the same role as asking for one (bsc.permissions.may_review_packs): it carries the
    coach's notes."""

    def check_write_permission(self) -> None:
        if not may_review_packs(self.membership):
            role = self.membership.get_role_display().lower()
            raise exceptions.PermissionDenied(f"Your role ({role}) does not allow this: {REVIEW_PACKS}.")

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)  # checks a write
        if request.method in permissions.SAFE_METHODS:
            self.check_write_permission()

    def get_organization_queryset(self):
        return review_packs.review_pack_list(organization=self.organization)


@extend_schema(tags=["review packs"])
class ReviewPackListApi(ReviewPackScopedMixin, generics.ListAPIView):
    """The organization's review packs, newest first; POST asks for one."""

    serializer_class = ReviewPackSerializer
    queryset = ReviewPack.objects.none()

    @extend_schema(
        request=ReviewPackRequestSerializer,
        responses={202: ReviewPackSerializer},
        description=(
            "Ask for the review pack of a unit for a period: 202 with the pack's id and progress; the pack is made "
            "in the background (read its progress at `review-packs/{id}/`). Asked again while a pack for the same "
            "unit and period is queued or being made, the answer is that pack. Refused (400) for a period without "
            "stored scores (the message names the span of the organization's data), a period not starting its "
            "kind, or a unit without a strategy map; another organization's unit is a 404."
        ),
    )
    def post(self, request, *args, **kwargs):
        body = ReviewPackRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        unit = OrgUnit.objects.for_organization(self.organization).filter(pk=data["unit"]).first()
        if unit is None:
            raise exceptions.NotFound(f"No unit {data['unit']} in this organization.")
        # A refusal of the service is a ValidationError: the API's handler answers it as a 400 naming the field.
        asked = review_packs.review_pack_request(
            organization=self.organization, unit=unit, kind=data["kind"], period=data["period"], by=request.user
        )
        answer = ReviewPackSerializer(asked.pack, context=self.get_serializer_context()).data
        location = reverse("api_review_pack", args=[self.organization.slug, asked.pack.pk], request=request)
        return Response(answer, status=status.HTTP_202_ACCEPTED, headers={"Location": location})


@extend_schema(tags=["review packs"])
class ReviewPackDetailApi(ReviewPackScopedMixin, generics.RetrieveAPIView):
    """One review pack: its status and progress (0-100, with the step in words), the reason when it failed, and the
    addresses of its PDF and spreadsheet once ready."""

    serializer_class = ReviewPackSerializer
    queryset = ReviewPack.objects.none()


@extend_schema(tags=["review packs"])
class ReviewPackFileApi(ReviewPackScopedMixin, generics.GenericAPIView):
    """A ready pack's PDF (`pdf`) or spreadsheet (`xlsx`), as a download; 404 while it is being made or after it
    failed."""

    queryset = ReviewPack.objects.none()
    serializer_class = None

    @extend_schema(
        operation_id="review_packs_file",
        parameters=[OpenApiParameter("file", str, OpenApiParameter.PATH, enum=list(FILES), description="pdf or xlsx")],
        responses={
            (200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description="The PDF (file=pdf)."),
            (200, FILES["xlsx"]): OpenApiResponse(OpenApiTypes.BINARY, description="The spreadsheet (file=xlsx)."),
        },
    )
    def get(self, request, *args, file: str, **kwargs):
        # Not ready, or not a file a pack has: an Http404, which the API answers as its JSON 404.
        return review_pack_file_response(self.get_object(), file)
