"""The Dagster UI in a real browser: one graph from each publisher to the publish step (issue 9).

Starts the real `dagster-webserver` on a free local port (fresh DAGSTER_HOME and WAREHOUSE_HOME,
bundled sources) and drives Debian's headless Chromium through Playwright (no browser download).
What is asserted is what the page draws: group and asset nodes in the lineage SVG, the edges
between them, the checks on each node, and the mart's page (dbt description, its checks).
Screenshots go to a temp folder printed by the test, and to `$WAREHOUSE_UI_SCREENSHOTS` if set.
Without /usr/bin/chromium the tests skip, unless WAREHOUSE_REQUIRE_BROWSER=1 (CI), then they fail.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import dagster as dg
import pytest
import yaml

from tests.conftest import REPO

try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:  # the test extra is not installed: the tests skip (or fail in CI), see below
    expect = sync_playwright = None

CHROMIUM = Path("/usr/bin/chromium")
# Chromium on these machines: no sandbox or GPU, and nothing that reaches out to the internet
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOAD_TIMEOUT_SECONDS = 180  # the code location loads in 20-60 s on a 2-core machine
UI_TIMEOUT_MS = 60_000
# wide enough that the lineage is drawn at full size (names in full, check counts); at a scale
# below 0.6 the UI draws minimal nodes with shortened names
VIEWPORT = {"width": 1920, "height": 1600}

MART = "marts/dim_sanctioned_entity"
# one path, each step a direct dependency: a publisher's file, its staging model, the list
# history, a mart, and the publish step
OFAC_PATH = (
    "raw/ofac_sdn",
    "staging/stg_ofac__sdn_entries",
    "history/ofac_list_observations",
    MART,
    "published_warehouse",
)


def short_name(key: str) -> str:
    """The name the lineage graph shows on a node: the last part of the asset key."""
    return key.rsplit("/", 1)[-1]


# ---------------------------------------------------------------------------------------------
# what the code location defines: the expectations the browser is checked against


@pytest.fixture(scope="module")
def asset_graph(dbt_manifest):
    from orchestration.definitions import defs

    return defs.resolve_asset_graph()


def asset_key(key: str) -> dg.AssetKey:
    return dg.AssetKey(key.split("/"))


def check_names(asset_graph, key: str) -> list[str]:
    return sorted(check.name for check in asset_graph.get_check_keys_for_assets({asset_key(key)}))


def dbt_model_docs(model: str) -> dict:
    """The model's entry in the dbt docs yml beside the marts (`models/marts/<domain>/_*.yml`)."""
    for path in sorted((REPO / "dbt_project" / "models" / "marts").glob("*/_*.yml")):
        for entry in yaml.safe_load(path.read_text()).get("models", []):
            if entry["name"] == model:
                return entry
    raise AssertionError(f"no dbt docs for {model} under dbt_project/models/marts")


def as_rendered(markdown: str) -> str:
    """Description text as the UI renders it: inline code unquoted, whitespace collapsed."""
    return " ".join(markdown.replace("`", "").split())


# ---------------------------------------------------------------------------------------------
# the webserver and the browser


def browser_or_skip():
    """Skip without Chromium or Playwright; under WAREHOUSE_REQUIRE_BROWSER=1 (CI), fail instead."""
    missing = None
    if not CHROMIUM.exists():
        missing = f"{CHROMIUM} is absent: `apt-get install chromium` (Debian's package; .ci/run installs it)"
    elif sync_playwright is None:
        missing = "the playwright package is absent: `make install` (it is in the test extra)"
    if missing and os.environ.get("WAREHOUSE_REQUIRE_BROWSER") == "1":
        pytest.fail(f"WAREHOUSE_REQUIRE_BROWSER=1 but {missing}")
    if missing:
        pytest.skip(missing)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def graphql(base: str, query: str) -> dict:
    request = urllib.request.Request(
        f"{base}/graphql", data=json.dumps({"query": query}).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)["data"]


LOCATIONS = """{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus
  locationOrLoadError { __typename ... on PythonError { message } } } } } }"""


def wait_until_loaded(base: str, process: subprocess.Popen, log: Path) -> None:
    """Poll until the webserver answers and its code location has loaded (or failed to)."""
    deadline = time.monotonic() + LOAD_TIMEOUT_SECONDS
    last = "no answer from /server_info yet"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"dagster-webserver exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{base}/server_info", timeout=5):
                pass
            entries = graphql(base, LOCATIONS)["workspaceOrError"]["locationEntries"]
        except (urllib.error.URLError, OSError, KeyError, TypeError) as error:
            last = repr(error)
        else:
            last = repr(entries)
            loaded = [entry for entry in entries if entry["loadStatus"] == "LOADED"]
            if entries and len(loaded) == len(entries):
                errors = [
                    entry["locationOrLoadError"] for entry in entries if entry["locationOrLoadError"]["__typename"] != "RepositoryLocation"
                ]
                assert not errors, f"the code location failed to load: {errors}"
                return
        time.sleep(1)
    pytest.fail(f"the code location did not load in {LOAD_TIMEOUT_SECONDS} s ({last}):\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def dagster_ui(dbt_manifest, tmp_path_factory):
    """The real webserver on a free local port, with a fresh instance; stopped at teardown."""
    browser_or_skip()  # before the webserver: no 60 s start for nothing
    root = tmp_path_factory.mktemp("dagster_ui")
    dagster_home = root / "dagster_home"
    dagster_home.mkdir()
    # the repo's instance settings (`make dev`): telemetry off, one run and one DuckDB writer at a time
    settings = REPO / "dagster_home" / "dagster.yaml"
    if settings.exists():
        shutil.copy(settings, dagster_home / "dagster.yaml")
    else:
        (dagster_home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    instance = yaml.safe_load((dagster_home / "dagster.yaml").read_text())
    assert instance["telemetry"]["enabled"] is False, "Dagster's telemetry must be off"
    env = {key: value for key, value in os.environ.items() if key not in ("EIA_API_KEY", "COMTRADE_API_KEY", "ALERT_WEBHOOK_URL")}
    env.update(
        DAGSTER_HOME=str(dagster_home),
        WAREHOUSE_HOME=str(root / "warehouse_home"),
        WAREHOUSE_SOURCES="bundled",
        GX_ANALYTICS_ENABLED="false",
        DAGSTER_DISABLE_TELEMETRY="true",
        DBT_SEND_ANONYMOUS_USAGE_STATS="false",
        DO_NOT_TRACK="1",
    )
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = root / "webserver.log"
    webserver = Path(sys.executable).parent / "dagster-webserver"
    with log.open("wb") as out:
        # a process group of its own, so the code server it starts is stopped with it
        process = subprocess.Popen(
            [str(webserver), "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_until_loaded(base, process, log)
        yield base
    finally:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
        except ProcessLookupError:
            pass


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory):
    """Where the screenshots go; also copied to $WAREHOUSE_UI_SCREENSHOTS when it is set."""
    folder = tmp_path_factory.mktemp("ui_screenshots")
    copy_to = os.environ.get("WAREHOUSE_UI_SCREENSHOTS")
    print(f"\nDagster UI screenshots: {folder}" + (f" (and {copy_to})" if copy_to else ""))

    def save(page, name: str) -> Path:
        path = folder / f"{name}.png"
        page.screenshot(path=str(path))
        if copy_to:
            Path(copy_to).mkdir(parents=True, exist_ok=True)
            shutil.copy(path, Path(copy_to) / path.name)
        return path

    return save


@pytest.fixture(scope="module")
def page(dagster_ui, tmp_path_factory):
    """Headless Chromium on a fresh profile, past the first-visit dialog, navigation hidden."""
    blocked: list[str] = []

    def localhost_only(route):
        if urllib.parse.urlsplit(route.request.url).hostname in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            user_data_dir=str(tmp_path_factory.mktemp("chromium_profile")),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport=VIEWPORT,
        )
        try:
            context.set_default_timeout(UI_TIMEOUT_MS)
            expect.set_options(timeout=UI_TIMEOUT_MS)  # assertions poll as long as actions wait
            context.route("**/*", localhost_only)  # the UI never reaches beyond this machine
            tab = context.pages[0] if context.pages else context.new_page()
            tab.goto(f"{dagster_ui}/asset-groups")
            # a fresh instance greets its first visitor; "Skip" records it in the instance
            dialog = tab.get_by_role("dialog").filter(has_text="Join the Dagster community")
            expect(dialog).to_be_visible()
            dialog.get_by_role("button", name="Skip").click()
            expect(dialog).to_be_hidden()  # (the server records it asynchronously: not asserted here)
            tab.get_by_role("button", name="Hide navigation").click()  # more room for the graph
            yield tab
        finally:
            context.close()
            if blocked:
                print(f"requests beyond localhost, blocked: {blocked}")


# ---------------------------------------------------------------------------------------------
# reading the lineage graph the page drew

# every node of the graph SVG that shows a name in full (asset nodes at full size, collapsed
# groups) with its box, and every edge's path (an arrow from one node's right side to another's left)
DRAWN_GRAPH_JS = """() => {
  const svg = document.querySelector('[data-svg-viewport] svg');
  if (!svg) return {nodes: [], edges: []};
  const nodes = [];
  for (const box of svg.querySelectorAll('foreignObject')) {
    const label = box.querySelector(
      '[class*="AssetNode_assetName"] [data-tooltip], [class*="CollapsedGroupNode"] [data-tooltip]');
    if (!label) continue;
    nodes.push({name: label.getAttribute('data-tooltip'), x: +box.getAttribute('x'), y: +box.getAttribute('y'),
                width: +box.getAttribute('width'), height: +box.getAttribute('height')});
  }
  const edges = [...svg.querySelectorAll('path[marker-end]')].map(path => path.getAttribute('d'));
  return {nodes, edges};
}"""
EDGE_ENDS = re.compile(r"^M\s*([-\d.]+)[ ,]([-\d.]+).*?([-\d.]+)[ ,]([-\d.]+)\s*$")
EDGE_TOLERANCE = 12  # svg units between a node's side and an edge's end (the arrowhead's room)


def drawn_edges(page, names: set[str], *, zoom_out_if_missing: bool = False) -> set[tuple[str, str]]:
    """Wait until nodes with all `names` are drawn; returns the drawn edges as (from, to) names."""
    deadline = time.monotonic() + UI_TIMEOUT_MS / 1000
    polls = 0
    while True:
        drawn = page.evaluate(DRAWN_GRAPH_JS)
        nodes = {node["name"]: node for node in drawn["nodes"]}
        if names <= nodes.keys() and drawn["edges"]:
            break
        if time.monotonic() > deadline:
            pytest.fail(f"the lineage never drew {sorted(names - nodes.keys())}; it drew {sorted(nodes)}")
        polls += 1
        if zoom_out_if_missing and polls % 10 == 0:  # nodes outside the viewport are not drawn
            page.locator("[data-svg-viewport] button:has([aria-label=zoom_out])").click()
        page.wait_for_timeout(500)
    duplicated = [name for name in names if sum(node["name"] == name for node in drawn["nodes"]) > 1]
    assert not duplicated, f"more than one node is named {duplicated}"

    def node_at(x: float, y: float, side: str) -> str | None:
        for node in nodes.values():
            edge_x = node["x"] + node["width"] if side == "right" else node["x"]
            if abs(x - edge_x) <= EDGE_TOLERANCE and node["y"] <= y <= node["y"] + node["height"]:
                return node["name"]
        return None

    edges = set()
    for path in drawn["edges"]:
        match = EDGE_ENDS.match(path)
        if not match:
            continue
        x1, y1, x2, y2 = map(float, match.groups())
        source, target = node_at(x1, y1, "right"), node_at(x2, y2, "left")
        if source and target:
            edges.add((source, target))
    return edges


def reachable(edges: set[tuple[str, str]], start: str) -> set[str]:
    seen, todo = {start}, [start]
    while todo:
        current = todo.pop()
        for source, target in edges:
            if source == current and target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def set_all_groups(page, *, expanded: bool) -> None:
    """Expand or collapse every group through the graph's settings menu (the choice is kept)."""
    page.locator("[data-svg-viewport] button:has([aria-label=settings])").click()  # drawn with the graph
    page.get_by_role("menuitem", name=re.compile("(Expand|Collapse) all groups")).wait_for()
    wanted = page.get_by_role("menuitem", name="Expand all groups" if expanded else "Collapse all groups")
    if wanted.count():
        wanted.click()
    page.keyboard.press("Escape")
    page.reload()  # the graph is fitted to the page again on load


def global_lineage(base: str, selection: str = "") -> str:
    """The global asset lineage page, optionally filtered by an asset selection."""
    return f"{base}/asset-groups" + (f"~{urllib.parse.quote(selection, safe='')}/" if selection else "")


# ---------------------------------------------------------------------------------------------
# the tests


def test_global_lineage_connects_every_publisher_to_the_publish_step(page, dagster_ui, asset_graph, screenshots):
    """All groups collapsed: an edge path from every publisher's group to the `publish` group."""
    keys = asset_graph.get_all_asset_keys()
    publishers = {asset_graph.get(key).group_name for key in keys if key.path[0] == "raw"}
    publish_group = asset_graph.get(asset_key("published_warehouse")).group_name
    assert {"ofac", "federal_register", "imf", "comtrade", "jodi", "eia", "curated"} <= publishers
    page.goto(global_lineage(dagster_ui))
    set_all_groups(page, expanded=False)
    groups = publishers | {"staging", "marts", publish_group}
    edges = drawn_edges(page, groups, zoom_out_if_missing=True)
    expect(page.get_by_text("fetching statuses")).to_have_count(0)  # each group's asset count and status
    screenshots(page, "01_global_lineage_groups")
    cut_off = {group for group in publishers if publish_group not in reachable(edges, group)}
    assert not cut_off, f"no drawn path from {sorted(cut_off)} to {publish_group!r}; edges: {sorted(edges)}"
    assert publish_group in reachable(edges, "staging") and publish_group in reachable(edges, "marts")


def test_ofac_file_to_publish_step_is_one_drawn_path_with_checks(page, dagster_ui, asset_graph, screenshots):
    """Raw OFAC asset -> staging model -> history -> mart -> publish step: every edge drawn."""
    for upstream, downstream in itertools.pairwise(OFAC_PATH):  # the path is real in the definitions
        assert asset_key(upstream) in asset_graph.get(asset_key(downstream)).parent_keys, (upstream, downstream)
    page.goto(global_lineage(dagster_ui, " or ".join(f'key:"{key}"' for key in OFAC_PATH)))
    set_all_groups(page, expanded=True)
    names = [short_name(key) for key in OFAC_PATH]
    edges = drawn_edges(page, set(names))
    missing = [step for step in itertools.pairwise(names) if step not in edges]
    assert not missing, f"edges not drawn: {missing}; drawn: {sorted(edges)}"
    # each node shows its checks (dbt's tests and the GX gate), none run on a fresh instance
    for key in OFAC_PATH:
        expected = check_names(asset_graph, key)
        node = page.locator("foreignObject", has=page.locator(f'[class*="AssetNode_assetName"] [data-tooltip="{short_name(key)}"]'))
        expect(node).to_contain_text("Asset checks")
        if expected:
            expect(node).to_contain_text(f"0 / {len(expected)} Passed")
    screenshots(page, "02_ofac_path_lineage")


def test_mart_page_shows_dbt_description_and_checks(page, dagster_ui, asset_graph, screenshots):
    """The mart's page: its description and a column's, from the dbt docs yml, and its checks."""
    docs = dbt_model_docs(short_name(MART))
    page.goto(f"{dagster_ui}/assets/{MART}")
    expect(page.get_by_text("Description", exact=True).first).to_be_visible()
    expect(page.locator("body")).to_contain_text(as_rendered(docs["description"]))
    column = next(column for column in docs["columns"] if column.get("description"))
    expect(page.get_by_role("row").filter(has_text=column["name"]).first).to_contain_text(as_rendered(column["description"]))
    screenshots(page, "03_mart_overview")

    expected = check_names(asset_graph, MART)
    assert "gx_suite" in expected  # the Great Expectations gate, beside dbt's tests
    page.goto(f"{dagster_ui}/assets/{MART}?view=checks")
    expect(page.get_by_text(f"Checks ({len(expected)})", exact=True)).to_be_visible()
    for name in expected:  # names are shortened in the middle on screen; the full one is the title
        expect(page.locator(f'[title="{name}"]').first).to_be_attached()
    screenshots(page, "04_mart_checks")


def test_mart_lineage_tab_leads_to_the_publish_step(page, dagster_ui, screenshots):
    """The mart's Lineage tab, one step downstream: an edge straight to the publish step."""
    page.goto(f"{dagster_ui}/assets/{MART}?view=lineage&lineageScope=downstream&lineageDepth=1")
    edges = drawn_edges(page, {short_name(MART), "published_warehouse"})
    assert (short_name(MART), "published_warehouse") in edges, sorted(edges)
    screenshots(page, "05_mart_lineage_downstream")
