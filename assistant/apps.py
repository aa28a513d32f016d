from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AssistantConfig(AppConfig):
    name = "assistant"
    verbose_name = "Assistant"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from assistant import tasks
        from healthcare.schedules import ensure_after_migrate

        post_migrate.connect(
            ensure_after_migrate(
                tasks.ROLLUP_SCHEDULE,
                "assistant.tasks.interactions_roll_up_due",
                tasks.ROLLUP_EVERY_MINUTES,
            ),
            sender=self,
            weak=False,
            dispatch_uid="assistant.rollup_schedule",
        )
