"""Alerts: a publish that adds or removes an Iraq-nexus designation, or adds a bank ban, names the
changes in its run report and POSTs them to ALERT_WEBHOOK_URL; a failed POST never blocks a publish.

The webhook is a real HTTP server on 127.0.0.1 that records what it is sent.
"""

from __future__ import annotations

import json
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from orchestration.alerts import detect_changes, notify
from orchestration.cli import main
from orchestration.settings import layout
from orchestration.warehouse import Warehouse
from tests.conftest import real, real_baseline, source_dir

FLY_BAGHDAD = 39236


class Webhook:
    """A local webhook answering `status` to every POST and keeping the JSON bodies."""

    def __init__(self, status: int):
        self.received: list[dict] = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                hook.received.append(json.loads(body))
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        # a token in the path, as chat webhooks have: it must never be shown
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/SECRET-TOKEN"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook():
    hooks: list[Webhook] = []

    def make(status: int = 200) -> Webhook:
        hooks.append(Webhook(status))
        return hooks[-1]

    yield make
    for hook in hooks:
        hook.close()


def test_new_iraq_nexus_designations_are_alerted_and_a_failed_post_never_blocks_the_publish(
        refresh, warehouse_home, tmp_path, monkeypatch, webhook, capsys):
    # the real list of 2024-01-18 published first, with every other source's sample
    shutil.copytree(real_baseline(), warehouse_home, symlinks=True)
    # the first list is a baseline: no changes, nothing to alert on
    first = json.loads((warehouse_home / "published_run.json").read_text())
    assert first["changes"] == {"designations": [], "bank_bans": []} and first["alert"]["sent"] is False

    broken = webhook(status=500)
    monkeypatch.setenv("ALERT_WEBHOOK_URL", broken.url)
    code, out, err = refresh("--only", "ofac", sources=source_dir(tmp_path / "b", real("snapshot-2024-01-22")))
    assert code == 0, err[-3000:]  # published, although the webhook failed
    report = json.loads((warehouse_home / "published_run.json").read_text())
    added = report["changes"]["designations"]
    assert sorted(d["ent_num"] for d in added) == [39236, 47168, 47169, 47170, 47177, 47178, 47179, 47180]
    assert {d["change"] for d in added} == {"added"}
    fly = next(d for d in added if d["ent_num"] == FLY_BAGHDAD)
    assert "FLY BAGHDAD" in fly["name"] and "iraq/address_country" in fly["rules"]
    assert fly["source_url"] and fly["source_url"].endswith("SDN.CSV") and fly["list_version"]
    assert report["changes"]["bank_bans"] == []  # the curated register did not change
    assert report["alert"] == {"sent": False, "host": broken.url.split("/")[2], "error": f"HTTP 500 from {broken.url.split('/')[2]}"}
    assert len(broken.received) == 1 and "SECRET-TOKEN" not in out + err + json.dumps(report)
    assert "8 Iraq-nexus designation(s) added: " in out and "ALERT NOT DELIVERED (HTTP 500" in out
    assert "the publish stands" in out

    # the same changes to a working webhook: the JSON a receiver gets
    working = webhook(status=204)
    outcome = notify(report["changes"], report, url=working.url)
    assert outcome["sent"] is True and outcome["designations"] == 8
    sent = working.received[0]
    assert sent["event"] == "iraq_iran_warehouse.published_changes" and sent["run_id"] == report["run_id"]
    assert {d["name"] for d in sent["designations"]} >= {fly["name"]}
    # status, read from the published file, names the changes of the current version
    assert main(["status"]) == 0
    assert "Changes since the version it built on:" in capsys.readouterr().out


def test_a_refused_or_unset_webhook_is_reported_not_raised(webhook):
    changes = {"designations": [{"change": "added", "ent_num": 1, "name": "X"}], "bank_bans": []}
    assert notify(changes, {}, url="") == {"sent": False, "reason": "ALERT_WEBHOOK_URL is not set"}
    assert notify({"designations": [], "bank_bans": []}, {}, url="http://127.0.0.1:9/x")["reason"] == "nothing to alert on"
    hook = webhook()
    port = hook.url.split("/")[2]
    hook.close()  # nobody listens there now
    outcome = notify(changes, {}, url=hook.url)
    assert outcome["sent"] is False and outcome["error"].endswith(f"the POST to {port} failed")
    assert "SECRET-TOKEN" not in json.dumps(outcome)


def test_a_new_bank_ban_is_a_change(tmp_path):
    store = Warehouse(layout(tmp_path / "home"))

    def publish_bans(run_id: str, banks: list[str]) -> None:
        with store.connect(run_id) as con:
            con.execute("create or replace table marts.fct_iraqi_bank_restrictions as select bank, 'bank' as institution_type, "
                        "date '2025-02-01' as action_date, 'usd_access_barred' as action_type, 'US Treasury' as authority, "
                        "['https://example.org/' || bank] as source_urls from unnest(?::varchar[]) as t(bank)", [banks])
            con.execute("alter table marts.fct_iraqi_bank_restrictions rename column bank to bank_name")
        store.publish(run_id)
        store.finish(run_id)

    publish_bans("run-0", ["Al-Huda Bank"])
    with store.connect("run-1") as con:
        con.execute("insert into marts.fct_iraqi_bank_restrictions values ('Ashur International Bank', 'bank', "
                    "date '2025-02-01', 'usd_access_barred', 'US Treasury', ['https://example.org/ashur'])")
    changes = detect_changes(store, "run-1")
    assert [b["bank_name"] for b in changes["bank_bans"]] == ["Ashur International Bank"]
    assert changes["bank_bans"][0]["source_urls"] == ["https://example.org/ashur"] and changes["designations"] == []
    store.finish("run-1")
