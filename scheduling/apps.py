from django.apps import AppConfig
from django.db.models.signals import post_migrate


class SchedulingConfig(AppConfig):
    name = "scheduling"
    verbose_name = "Scheduling"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from healthcare.schedules import ensure_after_migrate
        from scheduling import tasks

        post_migrate.connect(
            ensure_after_migrate(
                tasks.REMINDERS_SCHEDULE,
                "scheduling.tasks.reminders_send",
                tasks.REMINDERS_EVERY_MINUTES,
            ),
            sender=self,
            weak=False,
            dispatch_uid="scheduling.reminders_schedule",
        )
