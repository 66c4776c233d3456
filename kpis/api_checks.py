"""Read API of the cascade consistency checks (issue 18): GET /api/v1/o/<org_slug>/checks/ answers each rule with
its count and items, as the checklist page shows them. It only reads, through the one base mixin."""

from __future__ import annotations

from dataclasses import asdict

from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.response import Response

from bsc.api.base import OrganizationScopedMixin
from kpis.checks import RULES, consistency_checks
from kpis.models import Kpi


class CheckItemSerializer(serializers.Serializer):
    message = serializers.CharField(read_only=True, help_text="What is wrong, in plain words.")
    kind = serializers.ChoiceField(choices=["kpi", "objective", "scorecard"], read_only=True)
    object_id = serializers.IntegerField(read_only=True, help_text="The id of the KPI, objective or scorecard.")
    unit_id = serializers.IntegerField(read_only=True)
    unit_name = serializers.CharField(read_only=True)
    fix_url = serializers.CharField(read_only=True, help_text="The page where it is fixed (a path of this site).")
    fix_label = serializers.CharField(read_only=True)


class CheckRuleSerializer(serializers.Serializer):
    key = serializers.ChoiceField(choices=list(RULES), read_only=True)
    title = serializers.CharField(read_only=True)
    explanation = serializers.CharField(read_only=True)
    count = serializers.IntegerField(read_only=True)
    items = CheckItemSerializer(many=True, read_only=True)


class ChecksSerializer(serializers.Serializer):
    total = serializers.IntegerField(read_only=True, help_text="Items over every rule; 0 when everything passes.")
    rules = CheckRuleSerializer(many=True, read_only=True, help_text="Every rule, also those with no item.")


@extend_schema(tags=["checks"])
class ChecksApi(OrganizationScopedMixin, generics.GenericAPIView):
    """The organization's cascade consistency checks: roll-up targets that do not add up under their method (within
    0.5%), objectives nothing measures, KPIs without an owner, a target this fiscal year or values for their last
    three periods, alignments that skip a level of the unit tree, maps whose perspectives all weigh 0. Each item
    says what is wrong and links to the page where it is fixed. Readable by every member (as maps and KPIs are)."""

    serializer_class = ChecksSerializer
    queryset = Kpi.objects.none()
    pagination_class = None

    @extend_schema(responses=ChecksSerializer)
    def get(self, request, *args, **kwargs):
        rules = consistency_checks(organization=self.organization)
        body = {
            "total": sum(rule.count for rule in rules),
            "rules": [
                {
                    "key": rule.key,
                    "title": rule.title,
                    "explanation": rule.explanation,
                    "count": rule.count,
                    "items": [asdict(item) for item in rule.items],
                }  # fmt: skip
                for rule in rules
            ],
        }
        return Response(ChecksSerializer(body).data)
