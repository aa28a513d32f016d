from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from patients.models import PHIAccess


class ApiAccess(models.Model):
    """The app through which a PHI access log row was made (an API read).

    Kept beside the shared access log rather than in it, so "Who viewed my
    record" can name the app while the log's own columns stay as they are.
    The app's name is copied: the log must still say who read the data after
    an administrator deletes the app.
    """

    phi_access = models.OneToOneField(
        PHIAccess, on_delete=models.CASCADE, primary_key=True, related_name="api_access"
    )
    application = models.ForeignKey(
        "oauth2_provider.Application",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    app_name = models.CharField(_("app"), max_length=255)

    class Meta:
        db_table = "fhir_api_access"
        verbose_name = _("API access")
        verbose_name_plural = _("API accesses")

    def __str__(self) -> str:
        return self.app_name
