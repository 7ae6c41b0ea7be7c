"""Personal data stays where it belongs: nothing of it reaches the public page; the screening
page shows phones and ID numbers masked."""

from __future__ import annotations

import pytest

from tests.e2e.helpers import login, map_state

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def people(demo_store):
    from layers.store.gpkg import GpkgStore

    trav = GpkgStore(demo_store).read("travellers")
    sample = trav.sample(300, random_state=1)
    names = [n for n in sample["name"] if len(n) >= 3][:100]
    return {"names": names, "phones": list(sample["phone"]), "ids": list(sample["id_number"])}


def test_public_page_receives_no_traveller_data(app_url, page_and_traffic, people):
    page, traffic = page_and_traffic
    page.goto(f"{app_url}/resident?lang=zh", wait_until="domcontentloaded")
    map_state(page)
    page.wait_for_timeout(1000)
    assert sum(len(c) for c in traffic.received) > 100_000  # the page and its map did arrive
    leaked = [v for v in people["phones"] + people["ids"] + people["names"] if traffic.contains(v)]
    assert leaked == []


def test_screening_page_masks_phones_and_ids(app_url, page_and_traffic, people):
    page, traffic = page_and_traffic
    login(page, app_url, "command")
    page.goto(f"{app_url}/screening?lang=zh", wait_until="domcontentloaded")
    page.get_by_text("人员清单").wait_for(timeout=60_000)
    page.wait_for_timeout(2000)
    page.screenshot(path=str(__import__("pathlib").Path(__file__).resolve().parents[1] / "artifacts" / "page-screening-zh.png"), full_page=True)
    assert traffic.contains("****")  # masked values arrived
    assert [p for p in people["phones"] if traffic.contains(p)] == []
    assert [i for i in people["ids"] if traffic.contains(i)] == []
    assert traffic.foreign(app_url) == []
