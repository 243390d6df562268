"""The portal's navigation is what the apps contribute, by role."""

import pytest

from cloudkida import navigation


def test_admins_and_learners_see_the_entries_for_their_role_in_order_with_the_current_page_marked():
    admin = navigation.for_role(navigation.TENANT_ADMIN, "/labs/live/")
    learner = navigation.for_role(navigation.TENANT_USER, "/labs/lab-1/")
    assert [i["label"] for i in admin] == [
        "Dashboard",
        "People",
        "Groups",
        "Policies",
        "Labs",
        "Live sessions",
        "Billing",
        "Credits",
        "API keys",
        "Webhooks",
        "Audit log",
        "Settings",
    ]
    assert [i["label"] for i in admin if i["current"]] == ["Live sessions"]
    assert [i["label"] for i in learner] == ["Home", "Labs", "Usage & credits"]
    assert [i["label"] for i in learner if i["current"]] == ["Labs"]
    assert navigation.for_role(None, "/") == []


def test_an_entry_added_twice_differently_is_refused():
    navigation.add(navigation.NavItem("Labs", "/labs/", roles=navigation.EVERYONE, order=20))  # same: accepted
    with pytest.raises(ValueError, match="/labs/"):
        navigation.add(navigation.NavItem("Other", "/labs/", roles=navigation.EVERYONE))
