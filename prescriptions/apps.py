from django.apps import AppConfig
from django.db.models.signals import post_migrate


class PrescriptionsConfig(AppConfig):
    name = "prescriptions"
    verbose_name = "Prescriptions"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from healthcare.schedules import ensure_after_migrate
        from prescriptions import tasks

        post_migrate.connect(
            ensure_after_migrate(
                tasks.EXPIRY_SCHEDULE,
                "prescriptions.tasks.prescriptions_expire_due",
                tasks.EXPIRY_EVERY_MINUTES,
            ),
            sender=self,
            weak=False,
            dispatch_uid="prescriptions.expiry_schedule",
        )
