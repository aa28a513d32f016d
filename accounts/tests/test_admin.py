"""The user admin: custom add/change forms, no deletion, deactivation; the audit log stays read-only."""

from __future__ import annotations

import pytest
from auditlog import get_logentry_model
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Role, User
from accounts.services import user_create
from conftest import PASSWORD, login_verified

pytestmark = pytest.mark.django_db

LogEntry = get_logentry_model()

CHANGELIST = "admin:accounts_user_changelist"


@pytest.fixture
def admin_session(client: Client, admin_user: User) -> Client:
    # The admin site demands a verified second factor; this signs in with one.
    return login_verified(client, admin_user)


def _make_users(count: int, *, start: int = 0) -> list[User]:
    return [
        user_create(
            email=f"person{n}@example.org",
            full_name=f"Person Number{n:03d}",
            role=Role.PATIENT,
            password=PASSWORD,
        )
        for n in range(start, start + count)
    ]


def _changelist_query_count(client: Client, url: str) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), response.content.decode()


def test_changelist_lists_users(admin_session: Client, patient) -> None:
    response = admin_session.get(reverse(CHANGELIST))

    assert response.status_code == 200
    assert "pat.jones@example.org" in response.content.decode()
    assert "admin@example.org" in response.content.decode()


def test_changelist_queries_do_not_grow_with_users(admin_session: Client, admin_user: User) -> None:
    url = reverse(CHANGELIST)
    _make_users(2)  # with the admin: 3 rows
    admin_session.get(url)  # warm per-process caches (content types) before counting

    few, _ = _changelist_query_count(admin_session, url)
    _make_users(27, start=2)  # 30 rows
    many, page = _changelist_query_count(admin_session, url)

    assert User.objects.count() == 30
    assert "Person Number028" in page
    assert many == few


def test_search_finds_users_by_email_and_name(admin_session: Client, patient, provider) -> None:
    by_email = admin_session.get(reverse(CHANGELIST), {"q": "pat.jones@"})
    by_name = admin_session.get(reverse(CHANGELIST), {"q": "Anika"})

    assert by_email.context["cl"].result_count == 1
    assert "pat.jones@example.org" in by_email.content.decode()
    assert "dr.patel@example.org" not in by_email.content.decode()
    assert by_name.context["cl"].result_count == 1
    assert "dr.patel@example.org" in by_name.content.decode()


def test_change_page_shows_password_summary_and_reset_link(admin_session: Client, patient) -> None:
    user = patient.user

    response = admin_session.get(reverse("admin:accounts_user_change", args=[user.pk]))

    page = response.content.decode()
    assert response.status_code == 200
    assert "Pat Jones" in page
    # The hash summary (tests use the MD5 hasher), never the hash itself.
    assert "md5" in page
    assert user.password not in page
    assert 'href="../password/"' in page
    assert 'name="username"' not in page
    # Timestamps and last login are shown, not editable.
    assert 'name="created_at"' not in page
    assert 'name="last_login"' not in page


def test_change_form_saves_the_custom_fields(admin_session: Client, patient) -> None:
    user = patient.user
    data = {
        "email": user.email,
        "full_name": "Patricia Jones",
        "phone_number": "555-0199",
        "role": Role.PATIENT,
        "is_active": "on",
    }

    response = admin_session.post(reverse("admin:accounts_user_change", args=[user.pk]), data)

    assert response.status_code == 302
    user.refresh_from_db()
    assert user.full_name == "Patricia Jones"
    assert user.phone_number == "555-0199"
    assert user.is_active
    assert not user.is_staff
    # The read-only password field did not touch the stored hash.
    assert user.check_password(PASSWORD)


def test_staff_without_superuser_cannot_grant_privileges(client: Client, patient) -> None:
    clerk = user_create(
        email="clerk@example.org", full_name="Cleo Clerk", role=Role.PROVIDER, password=PASSWORD
    )
    clerk.is_staff = True
    clerk.save(update_fields=["is_staff"])
    clerk.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="accounts", codename__in=["view_user", "change_user"]
        )
    )
    login_verified(client, clerk)
    user = patient.user

    response = client.post(
        reverse("admin:accounts_user_change", args=[user.pk]),
        {
            "email": user.email,
            "full_name": "Pat Jones",
            "role": Role.PATIENT,
            "is_active": "on",
            "is_staff": "on",
            "is_superuser": "on",
        },
    )

    assert response.status_code == 302
    user.refresh_from_db()
    assert user.is_staff is False
    assert user.is_superuser is False


def test_password_change_page_sets_a_new_password(admin_session: Client, patient) -> None:
    user = patient.user
    url = reverse("admin:auth_user_password_change", args=[user.pk])
    new_password = "Amber-lighthouse-orchard-77"

    page = admin_session.get(url)
    response = admin_session.post(
        url, {"password1": new_password, "password2": new_password, "usable_password": "true"}
    )

    assert page.status_code == 200
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(new_password)


def test_add_form_creates_a_user_with_normalized_email(admin_session: Client) -> None:
    add_url = reverse("admin:accounts_user_add")
    new_password = "Copper-meadow-window-58"

    page = admin_session.get(add_url)
    response = admin_session.post(
        add_url,
        {
            "email": "New.Person@Example.ORG",
            "full_name": "New Person",
            "phone_number": "",
            "role": Role.PROVIDER,
            "usable_password": "true",
            "password1": new_password,
            "password2": new_password,
        },
    )

    assert page.status_code == 200
    assert 'name="email"' in page.content.decode()
    assert response.status_code == 302
    user = User.objects.get(email="new.person@example.org")
    assert user.full_name == "New Person"
    assert user.role == Role.PROVIDER
    assert user.check_password(new_password)
    assert not user.is_staff


def test_add_form_refuses_an_email_already_taken_in_another_case(
    admin_session: Client, patient
) -> None:
    response = admin_session.post(
        reverse("admin:accounts_user_add"),
        {
            "email": "PAT.JONES@example.org",
            "full_name": "Someone Else",
            "role": Role.PATIENT,
            "usable_password": "false",
        },
    )

    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    assert User.objects.filter(email="pat.jones@example.org").count() == 1


def test_users_cannot_be_deleted(admin_session: Client, patient) -> None:
    user = patient.user
    delete_url = reverse("admin:accounts_user_delete", args=[user.pk])

    get_response = admin_session.get(delete_url)
    post_response = admin_session.post(delete_url, {"post": "yes"})
    bulk_response = admin_session.post(
        reverse(CHANGELIST),
        {"action": "delete_selected", "_selected_action": [user.pk], "post": "yes"},
    )
    changelist = admin_session.get(reverse(CHANGELIST)).content.decode()

    assert get_response.status_code == 403
    assert post_response.status_code == 403
    assert bulk_response.status_code in {200, 302}
    assert User.objects.filter(pk=user.pk).exists()
    assert 'value="delete_selected"' not in changelist
    assert "Deactivate selected accounts" in changelist


def test_deactivate_action_switches_accounts_off(
    admin_session: Client, admin_user: User, patient, provider
) -> None:
    response = admin_session.post(
        reverse(CHANGELIST),
        {
            "action": "deactivate_selected_accounts",
            "_selected_action": [patient.user.pk, admin_user.pk],
        },
        follow=True,
    )

    page = response.content.decode()
    patient.user.refresh_from_db()
    admin_user.refresh_from_db()
    provider.user.refresh_from_db()
    assert patient.user.is_active is False
    # The admin's own account is left alone, and the admin is told why.
    assert admin_user.is_active is True
    assert "You cannot deactivate your own account." in page
    assert "Deactivated 1 account." in page
    assert provider.user.is_active is True


# --- auditlog's LogEntry admin ---------------------------------------------


@pytest.fixture
def log_entry(patient) -> LogEntry:
    # Creating the persona wrote audit entries; any one of them will do.
    entry = LogEntry.objects.order_by("timestamp").first()
    assert entry is not None
    return entry


def test_audit_log_cannot_be_added_to(admin_session: Client) -> None:
    response = admin_session.get(reverse("admin:auditlog_logentry_add"))

    assert response.status_code == 403


def test_audit_log_entries_cannot_be_changed(admin_session: Client, log_entry: LogEntry) -> None:
    url = reverse("admin:auditlog_logentry_change", args=[log_entry.pk])
    object_repr = log_entry.object_repr

    page = admin_session.get(url)
    response = admin_session.post(url, {"object_repr": "rewritten"})

    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert response.status_code == 403
    log_entry.refresh_from_db()
    assert log_entry.object_repr == object_repr


def test_audit_log_entries_cannot_be_deleted(admin_session: Client, log_entry: LogEntry) -> None:
    count = LogEntry.objects.count()

    response = admin_session.post(
        reverse("admin:auditlog_logentry_delete", args=[log_entry.pk]), {"post": "yes"}
    )
    admin_session.post(
        reverse("admin:auditlog_logentry_changelist"),
        {"action": "delete_selected", "_selected_action": [log_entry.pk], "post": "yes"},
    )

    assert response.status_code == 403
    assert LogEntry.objects.filter(pk=log_entry.pk).exists()
    assert LogEntry.objects.count() == count


def test_audit_log_search_by_actor_works_with_the_custom_user(
    admin_session: Client, admin_user: User, patient
) -> None:
    # A change made through the admin records the admin as the actor.
    admin_session.post(
        reverse("admin:accounts_user_change", args=[patient.user.pk]),
        {
            "email": patient.user.email,
            "full_name": "Pat Q. Jones",
            "role": Role.PATIENT,
            "is_active": "on",
        },
    )

    response = admin_session.get(reverse("admin:auditlog_logentry_changelist"), {"q": "Ada Admin"})

    # Found through the actor's name alone: the entry's own text names only the patient.
    assert response.status_code == 200
    assert "Pat Q. Jones" in response.content.decode()


@pytest.mark.django_db
def test_admin_index_links_to_the_staff_reports(staff_client) -> None:
    page = staff_client.get("/admin/").content.decode()
    assert 'href="/assistant/analytics/"' in page
    assert 'href="/admin/patients/emergencyaccess/"' in page
    assert staff_client.get("/assistant/analytics/").status_code == 200
