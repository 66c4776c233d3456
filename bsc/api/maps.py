"""API for strategy maps: scorecards (the whole map), perspectives, objectives, cause-effect links and initiatives.

Every map write goes through bsc.strategy with the `version` of the map the caller saw; the answer carries the
map's new `version`, and an edit against an older one is refused with 409 (see bsc.api.base).
"""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Prefetch, QuerySet
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import exceptions, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from bsc import events, map_svg, selectors, strategy
from bsc.api.base import OrganizationScopedMixin, id_filter, id_param
from bsc.api.schema import StaleMapSerializer
from bsc.api.serializers import ApiModelSerializer, OrganizationRelatedField
from bsc.map_periods import PeriodRefused, map_period_parse
from bsc.models import CauseEffectLink, Initiative, Objective, Perspective, Scorecard, User
from bsc.permissions import Action

X_MAX = map_svg.MAP_WIDTH - map_svg.LABEL_WIDTH - map_svg.CARD_WIDTH
Y_MAX = map_svg.BAND_HEIGHT - map_svg.CARD_HEIGHT


def _members(organization) -> QuerySet[User]:
    return User.objects.filter(memberships__organization=organization)


# --- Serializers -----------------------------------------------------------------------------------------


class MapVersionField(serializers.IntegerField):
    """In: the map version the editor loaded; out: the map's version after the change."""

    def __init__(self, **kwargs):
        kwargs.setdefault(
            "help_text",
            "The map version you loaded; the answer holds the new one. An older version is refused with 409.",
        )
        super().__init__(min_value=1, **kwargs)

    def get_attribute(self, instance):
        return instance.scorecard.version


class MapEditSerializer(ApiModelSerializer):
    """A map row's serializer: every write names the version it was made against, a PATCH too."""

    def validate(self, attrs):
        if "version" not in attrs:
            raise serializers.ValidationError({"version": ["This field is required."]})
        return attrs


class VersionSerializer(serializers.Serializer):
    version = serializers.IntegerField(min_value=1, help_text="The map version you loaded.")


class ReorderSerializer(VersionSerializer):
    order = serializers.ListField(
        child=serializers.IntegerField(), help_text="Every perspective id of the map, top band first."
    )


class ScorecardSerializer(serializers.ModelSerializer):
    unit_name = serializers.CharField(source="unit.name", read_only=True)

    class Meta:
        model = Scorecard
        fields = ["id", "unit", "unit_name", "version"]
        read_only_fields = fields


class MapPerspectiveSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    order = serializers.IntegerField()
    weight = serializers.DecimalField(max_digits=6, decimal_places=2)


class MapObjectiveSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    perspective = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField()
    owner = serializers.IntegerField(allow_null=True)
    owner_name = serializers.CharField()
    weight = serializers.DecimalField(max_digits=6, decimal_places=2)
    x = serializers.IntegerField()
    y = serializers.IntegerField()
    aligned_to = serializers.IntegerField(allow_null=True)
    aligned_to_name = serializers.CharField()
    status = serializers.ChoiceField(choices=list(map_svg.STATUS_COLOURS))
    score = serializers.DecimalField(
        max_digits=9, decimal_places=4, allow_null=True, help_text="The stored score of the period (0 to 1), or null."
    )
    score_text = serializers.CharField(help_text="The score as the pages print it ('72.5%'), or '' without one.")


class MapLinkSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    source = serializers.IntegerField()
    target = serializers.IntegerField()


class StrategyMapSerializer(serializers.Serializer):
    """The whole map as bsc.selectors.strategy_map builds it (documentation only: the view returns that dict)."""

    id = serializers.IntegerField()
    unit = serializers.IntegerField()
    unit_name = serializers.CharField()
    version = serializers.IntegerField()
    perspectives = MapPerspectiveSerializer(many=True)
    objectives = MapObjectiveSerializer(many=True)
    links = MapLinkSerializer(many=True)


class PerspectiveSerializer(MapEditSerializer):
    scorecard = OrganizationRelatedField(
        queryset_for=lambda organization: Scorecard.objects.for_organization(organization)
    )
    version = MapVersionField()

    class Meta:
        model = Perspective
        fields = ["id", "scorecard", "name", "order", "weight", "version"]
        read_only_fields = ["order"]
        validators = []  # the service reports the model's own messages (one name per map)

    def validate_scorecard(self, scorecard: Scorecard) -> Scorecard:
        if self.instance is not None and scorecard.pk != self.instance.scorecard_id:
            raise serializers.ValidationError("A perspective stays on its map; create one on the other map instead.")
        return scorecard


class ObjectiveSerializer(MapEditSerializer):
    scorecard = serializers.PrimaryKeyRelatedField(read_only=True)
    perspective = OrganizationRelatedField(
        queryset_for=lambda organization: Perspective.objects.for_organization(organization).select_related(
            "scorecard__unit"
        ),
        help_text="The band the card sits in; its map is the objective's map.",
    )
    owner = OrganizationRelatedField(
        queryset_for=_members, allow_null=True, required=False, help_text="The user id of a member."
    )
    owner_name = serializers.SerializerMethodField()
    aligned_to = OrganizationRelatedField(
        queryset_for=lambda organization: Objective.objects.for_organization(organization).select_related(
            "scorecard__unit"
        ),
        allow_null=True,
        required=False,
        help_text="An objective of the parent unit's map that this one serves.",
    )
    aligned_to_name = serializers.SerializerMethodField()
    x = serializers.IntegerField(min_value=0, max_value=X_MAX, required=False, help_text="Left edge in the band.")
    y = serializers.IntegerField(min_value=0, max_value=Y_MAX, required=False, help_text="Top edge in the band.")
    version = MapVersionField()

    class Meta:
        model = Objective
        fields = [
            "id",
            "scorecard",
            "perspective",
            "name",
            "description",
            "owner",
            "owner_name",
            "weight",
            "x",
            "y",
            "aligned_to",
            "aligned_to_name",
            "version",
        ]
        validators = []

    def get_owner_name(self, objective: Objective) -> str:
        return objective.owner.display_name if objective.owner else ""

    def get_aligned_to_name(self, objective: Objective) -> str:
        return objective.aligned_to.name if objective.aligned_to else ""


class InitiativeSerializer(ApiModelSerializer):
    objective = OrganizationRelatedField(
        queryset_for=lambda organization: Objective.objects.for_organization(organization)
    )
    owner = OrganizationRelatedField(
        queryset_for=_members, allow_null=True, required=False, help_text="The user id of a member."
    )
    owner_name = serializers.SerializerMethodField()

    class Meta:
        model = Initiative
        fields = ["id", "objective", "name", "owner", "owner_name", "start", "end", "status", "progress", "budget"]
        validators = []

    def get_owner_name(self, initiative: Initiative) -> str:
        return initiative.owner.display_name if initiative.owner else ""

    def validate_objective(self, objective: Objective) -> Objective:
        if self.instance is not None and objective.pk != self.instance.objective_id:
            raise serializers.ValidationError("An initiative stays with its objective; create a new one instead.")
        return objective


class SightSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    unit = serializers.CharField()
    unit_id = serializers.IntegerField()


class LineOfSightSerializer(serializers.Serializer):
    up = SightSerializer(many=True, help_text="The aligned objectives up to the company map, nearest first.")
    below = SightSerializer(many=True, help_text="The child units' objectives aligned to this one.")


class ObjectiveKpiSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    status = serializers.CharField(help_text="green, amber, red or grey (no data) for the month now due.")


class ObjectiveDetailSerializer(ObjectiveSerializer):
    initiatives = InitiativeSerializer(many=True, read_only=True)
    line_of_sight = serializers.SerializerMethodField()
    kpis = serializers.SerializerMethodField()

    class Meta(ObjectiveSerializer.Meta):
        fields = [*ObjectiveSerializer.Meta.fields, "initiatives", "line_of_sight", "kpis"]

    @extend_schema_field(ObjectiveKpiSerializer(many=True))
    def get_kpis(self, objective: Objective) -> list[dict]:
        return [kpi for answer in events.objective_kpis.send(objective=objective) for kpi in answer]

    @extend_schema_field(LineOfSightSerializer)
    def get_line_of_sight(self, objective: Objective) -> dict:
        return selectors.objective_line_of_sight(objective=objective)


class LinkSerializer(MapEditSerializer):
    scorecard = serializers.PrimaryKeyRelatedField(read_only=True)
    source = OrganizationRelatedField(
        queryset_for=lambda organization: Objective.objects.for_organization(organization).select_related("scorecard"),
        help_text="The objective that drives…",
    )
    target = OrganizationRelatedField(
        queryset_for=lambda organization: Objective.objects.for_organization(organization),
        help_text="…this one (on the same map).",
    )
    version = MapVersionField()

    class Meta:
        model = CauseEffectLink
        fields = ["id", "scorecard", "source", "target", "version"]
        validators = []


# --- Views -----------------------------------------------------------------------------------------------

SCORECARD_FILTER = id_filter("scorecard", "Only this scorecard's rows.")
VERSION_PARAMETER = OpenApiParameter(
    "version", {"type": "integer", "minimum": 1}, required=True, description="The map version you loaded."
)


def _version_from_query(request) -> int:
    serializer = VersionSerializer(data=request.query_params)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data["version"]


class MapWriteMixin(OrganizationScopedMixin):
    """Map resources: editing needs the strategy row of the matrix; lists filter by `?scorecard=`."""

    write_action = Action.EDIT_STRATEGY
    lookup_value_converter = "int"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    conflict_response = OpenApiResponse(StaleMapSerializer, description="The map changed since you loaded it.")

    def by_scorecard(self, queryset: QuerySet) -> QuerySet:
        scorecard_id = id_param(self.request, "scorecard")
        return queryset if scorecard_id is None else queryset.filter(scorecard_id=scorecard_id)

    def version_response(self, scorecard: Scorecard) -> Response:
        return Response({"version": scorecard.version})


@extend_schema(tags=["scorecards"])
@extend_schema_view(
    list=extend_schema(parameters=[id_filter("unit", "Only this unit's.")]),
    retrieve=extend_schema(
        parameters=[
            OpenApiParameter(
                "kind",
                {"type": "string", "enum": ["month", "quarter", "year"]},
                description="The kind of period the objectives' statuses are for (default month).",
            ),
            OpenApiParameter(
                "period",
                {"type": "string", "pattern": "^[1-9][0-9]{3}-(0[1-9]|1[0-2])$", "example": "2026-03"},
                description="YYYY-MM, any month of the period (default: the month now due). A period before the "
                "organization's data or after the month now due is a 400.",
            ),
        ],
        responses=StrategyMapSerializer,
    ),
)
class ScorecardViewSet(MapWriteMixin, viewsets.ReadOnlyModelViewSet):
    """Each unit's scorecard. One scorecard is the whole strategy map: bands, cards and arrows, with the
    `version` every map edit sends back."""

    serializer_class = ScorecardSerializer
    queryset = Scorecard.objects.none()

    def get_organization_queryset(self):
        scorecards = (
            Scorecard.objects.for_organization(self.organization)
            .select_related("unit", "organization")
            .order_by("unit__path")
        )
        unit_id = id_param(self.request, "unit")
        return scorecards if unit_id is None else scorecards.filter(unit_id=unit_id)

    def retrieve(self, request, *args, **kwargs):
        """The map with each objective's stored status for a period (?kind=&period=, as the map page)."""
        scorecard = self.get_object()
        params = request.query_params
        try:
            period = map_period_parse(
                self.organization, kind=params.get("kind") or None, period=params.get("period") or None
            )
        except PeriodRefused as refused:
            raise exceptions.ValidationError({refused.field: [str(refused)]}) from None
        return Response(selectors.strategy_map(scorecard=scorecard, kind=period.kind, period=period.start))

    @extend_schema(request=VersionSerializer, responses=StrategyMapSerializer)
    @action(detail=True, methods=["post"], url_path="copy-parent")
    def copy_parent(self, request, *args, **kwargs):
        """Fill an empty map with a copy of the parent unit's: perspectives, objectives (each aligned to the
        one it copies) and arrows."""
        scorecard = self.get_object()
        serializer = VersionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        strategy.scorecard_copy_parent_structure(scorecard=scorecard, version=serializer.validated_data["version"])
        return Response(selectors.strategy_map(scorecard=scorecard))

    @extend_schema(request=ReorderSerializer, responses=StrategyMapSerializer)
    @action(detail=True, methods=["post"], url_path="reorder-perspectives")
    def reorder_perspectives(self, request, *args, **kwargs):
        """Put the bands in a new top-to-bottom order (list every perspective once)."""
        scorecard = self.get_object()
        serializer = ReorderSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        strategy.perspective_reorder(scorecard=scorecard, perspective_ids=data["order"], version=data["version"])
        return Response(selectors.strategy_map(scorecard=scorecard))


@extend_schema(tags=["perspectives"])
@extend_schema_view(
    list=extend_schema(parameters=[SCORECARD_FILTER]),
    destroy=extend_schema(parameters=[VERSION_PARAMETER], responses={200: VersionSerializer}),
)
class PerspectiveViewSet(MapWriteMixin, viewsets.ModelViewSet):
    """The bands of a map, top first. Add one, rename or re-weight it; delete it once it holds no objectives
    (reorder them with the scorecard's reorder-perspectives)."""

    serializer_class = PerspectiveSerializer
    queryset = Perspective.objects.none()

    def get_organization_queryset(self):
        perspectives = Perspective.objects.for_organization(self.organization).select_related("scorecard")
        return self.by_scorecard(perspectives).order_by("scorecard_id", "order", "id")

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = strategy.perspective_create(
            scorecard=data["scorecard"],
            name=data["name"],
            weight=data.get("weight", Decimal(1)),
            version=data["version"],
        )

    def perform_update(self, serializer):
        fields = {k: v for k, v in serializer.validated_data.items() if k in ("name", "weight")}
        strategy.perspective_update(
            perspective=serializer.instance, version=serializer.validated_data["version"], **fields
        )

    def destroy(self, request, *args, **kwargs):
        perspective = self.get_object()
        strategy.perspective_delete(perspective=perspective, version=_version_from_query(request))
        return self.version_response(perspective.scorecard)


@extend_schema(tags=["objectives"])
@extend_schema_view(
    list=extend_schema(parameters=[SCORECARD_FILTER]),
    destroy=extend_schema(parameters=[VERSION_PARAMETER], responses={200: VersionSerializer}),
)
class ObjectiveViewSet(MapWriteMixin, viewsets.ModelViewSet):
    """The cards of a map. Create one in a band (`perspective`) at `x`, `y`; rename, move (also to another
    band of the same map), re-own, re-weight, describe or align it to a parent-map objective; delete it.
    The detail adds its initiatives and its line of sight."""

    queryset = Objective.objects.none()

    def get_serializer_class(self):
        return ObjectiveDetailSerializer if self.action == "retrieve" else ObjectiveSerializer

    def get_organization_queryset(self):
        objectives = Objective.objects.for_organization(self.organization).select_related(
            "scorecard__unit", "owner", "aligned_to"
        )
        if self.action == "retrieve":
            objectives = objectives.prefetch_related(
                Prefetch(
                    "initiatives",
                    queryset=Initiative.objects.for_organization(self.organization).select_related("owner"),
                )
            )
        return self.by_scorecard(objectives).order_by("scorecard_id", "perspective__order", "x", "id")

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        version = data.pop("version")
        serializer.instance = strategy.objective_create(**data, version=version)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        version = data.pop("version")
        strategy.objective_update(objective=serializer.instance, version=version, **data)

    def destroy(self, request, *args, **kwargs):
        objective = self.get_object()
        strategy.objective_delete(objective=objective, version=_version_from_query(request))
        return self.version_response(objective.scorecard)


@extend_schema(tags=["links"])
@extend_schema_view(
    list=extend_schema(parameters=[SCORECARD_FILTER]),
    destroy=extend_schema(parameters=[VERSION_PARAMETER], responses={200: VersionSerializer}),
)
class LinkViewSet(MapWriteMixin, viewsets.ModelViewSet):
    """Cause-effect arrows: `source` drives `target`, both on one map. No self-links, no duplicates, no
    cycles. An arrow is drawn or removed, never changed."""

    serializer_class = LinkSerializer
    queryset = CauseEffectLink.objects.none()
    http_method_names = ["get", "post", "delete", "head", "options"]

    def get_organization_queryset(self):
        links = CauseEffectLink.objects.for_organization(self.organization).select_related("scorecard")
        return self.by_scorecard(links).order_by("scorecard_id", "id")

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = strategy.link_create(
            source=data["source"], target=data["target"], version=data["version"]
        )

    def destroy(self, request, *args, **kwargs):
        link = self.get_object()
        strategy.link_delete(link=link, version=_version_from_query(request))
        return self.version_response(link.scorecard)


@extend_schema(tags=["initiatives"])
@extend_schema_view(
    list=extend_schema(
        parameters=[
            SCORECARD_FILTER,
            id_filter("objective", "Only this objective's initiatives."),
        ]
    )
)
class InitiativeViewSet(MapWriteMixin, viewsets.ModelViewSet):
    """Action plans that serve an objective: owner, start and end dates, status, progress (0-100), budget."""

    serializer_class = InitiativeSerializer
    queryset = Initiative.objects.none()
    conflict_response = None  # initiatives are not part of the map's version

    def get_organization_queryset(self):
        initiatives = Initiative.objects.for_organization(self.organization).select_related("owner")
        scorecard_id = id_param(self.request, "scorecard")
        if scorecard_id is not None:
            initiatives = initiatives.filter(objective__scorecard_id=scorecard_id)
        objective_id = id_param(self.request, "objective")
        if objective_id is not None:
            initiatives = initiatives.filter(objective_id=objective_id)
        return initiatives.order_by("objective_id", "start", "id")

    def perform_create(self, serializer):
        serializer.instance = strategy.initiative_create(**serializer.validated_data)

    def perform_update(self, serializer):
        fields = {k: v for k, v in serializer.validated_data.items() if k != "objective"}
        strategy.initiative_update(initiative=serializer.instance, **fields)

    def perform_destroy(self, instance):
        strategy.initiative_delete(initiative=instance)
