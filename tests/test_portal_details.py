"""Small things people trip over: where links are, what screen readers hear, empty states."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_who_viewed_my_record_is_reachable_from_the_dashboard_and_the_records(patient_client) -> None:
    target = reverse("patients:access-log")
    for page in ("patients:dashboard", "records:patient-record-list"):
        assert f'href="{target}"' in patient_client.get(reverse(page)).content.decode(), page


def test_an_empty_inbox_tells_a_new_patient_how_to_reach_a_provider(patient_client) -> None:
    page = patient_client.get(reverse("messaging:inbox")).content.decode()
    assert 'id="inbox-book"' in page
    assert f'href="{reverse("scheduling:patient-book")}"' in page


def test_the_admin_index_invites_a_provider(staff_client) -> None:
    page = staff_client.get(reverse("admin:index")).content.decode()
    assert f'href="{reverse("admin:providers_providerprofile_invite")}"' in page
    assert "Invite a provider" in page


def test_the_signed_in_name_is_announced_without_a_stray_aria_label(patient_client) -> None:
    page = patient_client.get(reverse("patients:dashboard")).content.decode()
    who = re.search(r'<span class="who"[^>]*>', page).group(0)
    assert "aria-label" not in who
    assert "Signed in as" in page


def test_the_phone_menu_button_controls_the_navigation_and_carries_the_badge(patient_client) -> None:
    page = patient_client.get(reverse("patients:dashboard")).content.decode()
    button = re.search(r'<button type="button" class="menu-toggle".*?</button>', page, re.S).group(0)
    assert 'aria-controls="site-nav"' in button and 'aria-expanded="false"' in button
    assert 'data-badge="messages"' in button
    assert "Dashboard" in button  # the current page stays named while the menu is folded
    assert 'id="site-nav"' in page


def test_the_qr_image_name_does_not_collide_with_the_code_field(patient_client) -> None:
    import time

    from accounts.reauth import REAUTH_AT_KEY

    session = patient_client.session
    session[REAUTH_AT_KEY] = time.time()  # just re-entered the password, as enrolment asks
    session.save()
    page = patient_client.get(reverse("accounts:mfa-setup")).content.decode()
    label = re.search(r'<div class="qr" role="img" aria-label="([^"]+)"', page).group(1)
    assert "code" not in label.lower()


def test_the_speak_button_draws_its_icon_instead_of_relying_on_an_emoji_font(patient_client) -> None:
    page = patient_client.get(reverse("assistant:chat")).content.decode()
    button = re.search(r'<button type="button" id="mic".*?</button>', page, re.S).group(0)
    assert "<svg" in button
    assert not re.search(r"[\U0001F300-\U0001FAFF]", button)
