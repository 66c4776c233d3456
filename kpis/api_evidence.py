"""Read API of the evidence for cause-effect links (issue 18): GET /api/v1/o/<org_slug>/links/<id>/evidence/ answers
the stored evidence of one link with its words, GET links/evidence/?unit=<id> that of every link of a unit's map
(the map page's table), through the one base mixin."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers
from rest_framework.response import Response

from bsc.api.base import ID_SCHEMA, OrganizationScopedMixin
from bsc.models import CauseEffectLink
from kpis.api import PeriodField
from kpis.api_scores import ScoresApi, UnitRefSerializer
from kpis.link_evidence import evidence_body, link_evidence_list


class ObjectiveRefSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)


class LagSerializer(serializers.Serializer):
    lag = serializers.IntegerField(read_only=True, help_text="Months the effect is read after the cause, 0 to 3.")
    rho = serializers.DecimalField(max_digits=5, decimal_places=4, allow_null=True, read_only=True)
    pairs = serializers.IntegerField(read_only=True)


class LinkEvidenceSerializer(serializers.Serializer):
    link = serializers.IntegerField(read_only=True)
    source = ObjectiveRefSerializer(read_only=True, help_text="The cause.")
    target = ObjectiveRefSerializer(read_only=True, help_text="The effect.")
    computed = serializers.BooleanField(read_only=True, help_text="false until the first run after scores change.")
    best_lag = serializers.IntegerField(allow_null=True, read_only=True, help_text="null without enough data.")
    rho = serializers.DecimalField(
        max_digits=5, decimal_places=4, allow_null=True, read_only=True,
        help_text="Spearman's rank correlation of the monthly score changes at the best lag, -1 to 1.",
    )  # fmt: skip
    pairs = serializers.IntegerField(read_only=True, help_text="Paired monthly changes at the best lag.")
    lags = LagSerializer(many=True, read_only=True)
    window_end = PeriodField(allow_null=True, read_only=True, help_text="The last of the 24 months read.")
    computed_at = serializers.DateTimeField(allow_null=True, read_only=True)
    strength = serializers.ChoiceField(choices=["strong", "moderate", "weak", "none"], read_only=True)
    summary = serializers.CharField(read_only=True, help_text="The finding in plain words, or why there is none.")
    caution = serializers.CharField(read_only=True)


@extend_schema(tags=["maps"])
class LinkEvidenceApi(OrganizationScopedMixin, generics.RetrieveAPIView):
    """How strongly a cause-effect link's cause and effect objectives moved together over the last 24 months: the
    Spearman rank correlation of their monthly score changes at lags of 0 to 3 months, the best lag with its number
    of paired months, and a caution (correlation is not proof; fewer than 12 pairs say little). Computed after
    scores change, not on request: `computed` is false before the first run, and a link whose objectives have no
    scores to compare answers `strength` "none" with the reason in `summary`."""

    serializer_class = LinkEvidenceSerializer
    queryset = CauseEffectLink.objects.none()

    def get_organization_queryset(self):
        return CauseEffectLink.objects.for_organization(self.organization).select_related(
            "source", "target", "evidence"
        )

    def retrieve(self, request, *args, **kwargs):
        return Response(LinkEvidenceSerializer(evidence_body(self.get_object())).data)


class MapEvidenceSerializer(serializers.Serializer):
    unit = UnitRefSerializer(read_only=True, help_text="The unit whose map is read.")
    links = LinkEvidenceSerializer(many=True, read_only=True, help_text="Every arrow of the map, by its cause.")


@extend_schema(tags=["maps"])
class MapEvidenceApi(ScoresApi):
    """The evidence of every cause-effect link of one unit's strategy map (what the map page's evidence table
    shows), each as `links/<id>/evidence/` answers it: one query however many links. The unit is named and checked
    as `scores/` checks it (404 for another organization's unit or a unit without a scorecard)."""

    serializer_class = MapEvidenceSerializer
    pagination_class = None
    unit_reads = "map's evidence"

    @extend_schema(
        operation_id="map_evidence_retrieve",  # links/{id}/evidence/ is links_evidence_retrieve
        parameters=[OpenApiParameter("unit", ID_SCHEMA, required=True, description="The unit whose map is read.")],
        responses=MapEvidenceSerializer,
    )
    def get(self, request, *args, **kwargs):
        unit = self.unit()
        scorecard_id = unit.scorecard.pk
        links = link_evidence_list(organization=self.organization, scorecard_id=scorecard_id)
        return Response(MapEvidenceSerializer({"unit": {"id": unit.pk, "name": unit.name}, "links": links}).data)
