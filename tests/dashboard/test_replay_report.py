"""``fakestack replay --report DIR``: one static HTML page per scenario and an index."""

from __future__ import annotations

import re
from pathlib import Path

from fakestack.cli import main
from fakestack.scenarios import load

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
CLONE_STORM = SCENARIOS / "zstack-clone-storm-fills-primary-storage.yaml"

FAILING = """\
name: clones-expected-wrongly
description: clones two VMs, then expects the wrong number of VMs on the host
topology: tiny
seed: 0
steps:
  - name: clone two
    op: clone_vm
    args: {source: golden, names: [twin-a, twin-b]}
    expect: {ok: true}
  - name: the host holds what it holds
    op: capacity
    expect:
      subset: {hosts: [{name: host-1, vms: 7}]}
  - name: never reached
    op: capacity
"""


def run_replay(*args: str) -> int:
    return main(["replay", *args, "--no-progress"])


def svg_points(html: str, series: str) -> list[tuple[float, float]]:
    pattern = rf'<polyline class="series" data-series="{re.escape(series)}"[^>]*points="([^"]+)"'
    match = re.search(pattern, html)
    assert match, f"no series {series!r} in the chart"
    return [tuple(map(float, p.split(","))) for p in match.group(1).split()]


def test_a_passing_scenario_gets_a_page_with_its_chart_trees_and_numbers(tmp_path, capsys):
    out = tmp_path / "report"
    assert run_replay(str(CLONE_STORM), "--report", str(out)) == 0
    assert f"report: {out / 'index.html'}" in capsys.readouterr().out
    page = out / "zstack-clone-storm-fills-primary-storage.html"
    assert sorted(p.name for p in out.iterdir()) == ["index.html", page.name]
    html = page.read_text(encoding="utf-8")
    assert '<span class="verdict pass">PASS</span>' in html
    # the chart: one point before the first step and one after each step
    steps = len(load(CLONE_STORM).steps)
    assert html.count('<tr class="" data-step=') == steps == 8
    virtual = svg_points(html, "nfs-ps virtual")
    assert len(virtual) == steps + 1
    ys = [y for _, y in virtual]
    assert ys[-1] < ys[0]  # the virtual ledger filled up (SVG y grows downwards)
    assert "<title>nfs-ps virtual after clone ten in one call: " in html
    # the final trees: the three clones that exist, none of the seven that failed
    for name in ("ci-1", "ci-2", "ci-3"):
        assert html.count(f'data-label="{name} root"') == 1
    assert 'data-label="ci-4 root"' not in html
    # the final figures, as the bars show them (50 GiB virtual, 4 VMs on host-1)
    assert re.search(r'data-name="host-1".*?4 VMs', html, re.DOTALL)
    assert "/ 50 GiB · over-provisioning ×1" in html
    # static: no script, nothing to fetch (the stylesheet is inlined)
    assert "<script" not in html and "<link" not in html
    assert re.search(r'(src|href)="(https?:)?//', html) is None
    index = (out / "index.html").read_text(encoding="utf-8")
    assert f'<a href="{page.name}">zstack-clone-storm-fills-primary-storage</a>' in index
    assert "1 passed, 0 failed" in index


def test_a_failing_scenario_shows_the_failed_step_and_its_diff(tmp_path):
    scenario = tmp_path / "wrong.yaml"
    scenario.write_text(FAILING, encoding="utf-8")
    out = tmp_path / "report"
    assert run_replay(str(scenario), str(CLONE_STORM), "--report", str(out)) == 1
    html = (out / "wrong.html").read_text(encoding="utf-8")
    assert '<span class="verdict fail">FAIL</span>' in html
    assert '<tr class="failed" data-step="2">' in html
    assert '<td class="outcome">not run</td>' in html  # step 3
    failure = html.split('<section class="panel" id="failure">', 1)[1].split("</section>", 1)[0]
    assert "step 2: the host holds what it holds" in failure
    assert '<span class="hdr">--- expected part</span>' in failure
    assert '<span class="del">-      &quot;vms&quot;: 7</span>' in failure
    assert '<span class="add">+      &quot;vms&quot;: 3</span>' in failure
    # the chart stops at the failed step and marks it
    assert len(svg_points(html, "host-1 memory")) == 3
    assert "<title>failed: the host holds what it holds</title>" in html
    for name in ("golden", "twin-a", "twin-b"):
        assert f'data-label="{name} root"' in html
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "1 passed, 1 failed" in index
    assert '<a href="wrong.html">clones-expected-wrongly</a>' in index


def test_an_invalid_scenario_is_listed_without_a_page(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nsteps: 3\n", encoding="utf-8")
    out = tmp_path / "report"
    assert run_replay(str(bad), "--report", str(out)) == 1
    assert sorted(p.name for p in out.iterdir()) == ["index.html"]
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "INVALID" in index and "0 passed, 1 failed" in index


def test_a_report_dir_that_cannot_be_made_is_bad_input(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    assert run_replay(str(CLONE_STORM), "--report", str(blocker / "sub")) == 2
    assert "fakestack: cannot create" in capsys.readouterr().err


def test_the_chart_sums_up_a_kind_with_many_ledgers():
    from fakestack import Cloud, ManualClock
    from fakestack.dashboard import render, views

    small = views.ledgers(Cloud("demo", clock=ManualClock()))
    big_cloud = Cloud("scale:20:30", clock=ManualClock())
    big = views.ledgers(big_cloud)
    names = [s["name"] for s in render.ledger_series([small])]
    assert names[:2] == ["host-1 cpu", "host-1 memory"] and "imagestore" in names
    series = {s["name"]: s for s in render.ledger_series([big, big])}
    hosts_cpu = series["all 20 hosts cpu"]
    assert hosts_cpu["used"] == [sum(h.used_cpu for h in big_cloud.hosts)] * 2
    assert hosts_cpu["total"] == [sum(h.total_cpu for h in big_cloud.hosts)] * 2
    assert not any(name.startswith("host-") for name in series)
