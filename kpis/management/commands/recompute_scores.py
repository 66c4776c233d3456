"""Rebuild every stored score from the measurements and targets, with a progress bar."""

from django.core.management.base import BaseCommand
from tqdm import tqdm

from bsc.models import Organization
from bsc.tenancy import organization_scope
from kpis.outbox import scores_rebuild


class Command(BaseCommand):
    help = "Recompute all stored scores (KPI, objective, perspective, scorecard) from the source rows."

    def add_arguments(self, parser):
        parser.add_argument("--organization", help="Only this organization's slug.")

    def handle(self, *args, organization=None, **options):
        organizations = Organization.objects.order_by("slug")
        if organization:
            organizations = organizations.filter(slug=organization)
            if not organizations.exists():
                self.stderr.write(f"No organization with the slug {organization!r}.")
                raise SystemExit(2)
        for org in organizations:
            with tqdm(desc=org.slug, unit="step", file=self.stdout, disable=options["verbosity"] == 0) as bar:

                def advance(done, total, bar=bar):
                    bar.total = total
                    bar.update(done - bar.n)

                with organization_scope(org):
                    count = scores_rebuild(organization=org, progress=advance)
            self.stdout.write(f"{org.slug}: {count} score rows written or changed.")
