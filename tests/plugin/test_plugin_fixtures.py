"""The pytest plugin, exercised with pytester: fixtures, marker, options, failure report."""

pytest_plugins = ["pytester"]


def run(pytester, source, *args, ini=None):
    if ini is not None:
        pytester.makeini(ini)
    pytester.makepyfile(source)
    return pytester.runpytest("-p", "no:cacheprovider", *args)


def test_fakestack_is_a_fresh_cloud_per_test(pytester):
    result = run(
        pytester,
        """
        def test_one(fakestack):
            assert fakestack.topology.name == "demo" and fakestack.seed == 0
            fakestack.create_vm("web", image="centos-7", instance_offering="small")
            assert len(fakestack.vms) == 2

        def test_two(fakestack):
            assert [vm.name for vm in fakestack.vms] == ["golden"]
            assert fakestack.clock.kind == "manual"
    """,
    )
    result.assert_outcomes(passed=2)


def test_a_preset_built_once_per_session_still_gives_each_test_its_own_cloud(pytester):
    """The fixture restores a session-wide snapshot of each preset: whatever a test changes
    (VMs, settings, clock, fault plan, dialect state, ids) is not in the next test's cloud."""
    result = run(
        pytester,
        """
        import pytest
        from fakestack import faults

        def change_everything(cloud, client):
            cloud.clone_vm("golden", ["a", "b"])
            cloud.settings.job_durations["vm.clone"] = 30.0
            cloud.clock.advance(3600)
            faults.add(cloud, faults.exhaust("vm.clone", "host.memory"))
            assert client.put("/zstack/v1/accounts/login", json={"logInByAccount": {
                "accountName": "admin", "password": "x"}}).status_code in (200, 400, 401, 503)
            cloud.dialect_state("zstack")["marker"] = 1

        def fresh(cloud):
            assert [vm.name for vm in cloud.vms] == ["golden"]
            assert cloud.settings.job_durations.get("vm.clone", 0.0) == 0.0
            assert cloud.clock.now_datetime().isoformat() == "2026-01-01T00:00:00+00:00"
            assert faults.list_rules(cloud) == []
            assert "marker" not in cloud.dialect_state("zstack")
            return cloud.ids.uuid()

        IDS = []

        @pytest.mark.parametrize("i", range(3))
        def test_each(i, fakestack, fakestack_client):
            IDS.append(fresh(fakestack))
            change_everything(fakestack, fakestack_client)

        def test_same_first_id_every_time():
            assert len(IDS) == 3 and len(set(IDS)) == 1
    """,
    )
    result.assert_outcomes(passed=4)


def test_a_finished_tests_clouds_are_not_kept_for_the_rest_of_the_session(pytester):
    """What the failure report would show is dropped once the test is over, whichever
    fixture made the cloud (``fakestack``, ``fakestack_app``, ``fakestack_factory``)."""
    result = run(
        pytester,
        """
        import gc
        import weakref

        REFS = []

        def test_fixture(fakestack_app):
            REFS.append(weakref.ref(fakestack_app.cloud))

        def test_factory(fakestack_factory):
            REFS.append(weakref.ref(fakestack_factory().cloud))
            REFS.append(weakref.ref(fakestack_factory().cloud))

        def test_none_left():
            gc.collect()
            assert len(REFS) == 3
            assert [ref() for ref in REFS] == [None, None, None]
    """,
    )
    result.assert_outcomes(passed=3)


def test_app_and_client_fixtures_serve_the_same_cloud(pytester):
    result = run(
        pytester,
        """
        def test_health(fakestack, fakestack_app, fakestack_client):
            assert fakestack_app.cloud is fakestack
            r = fakestack_client.get("/_fakestack/health")
            assert r.status_code == 200
            assert r.get_json()["topology"] == "demo"
            fakestack.tick(60)
            assert fakestack_client.get("/_fakestack/clock").get_json()["iso"] == "2026-01-01T00:01:00Z"
    """,
    )
    result.assert_outcomes(passed=1)


def test_marker_sets_topology_seed_and_clock(pytester):
    result = run(
        pytester,
        """
        import pytest

        @pytest.mark.fakestack(topology="tiny", seed=42)
        def test_tiny(fakestack):
            assert (fakestack.topology.name, fakestack.seed) == ("tiny", 42)

        @pytest.mark.fakestack(clock="system")
        def test_system_clock(fakestack):
            assert fakestack.clock.kind == "system"

        @pytest.mark.fakestack(topology={"name": "mine", "zones": [{"name": "z"}],
                                         "clusters": [{"name": "c", "zone": "z"}],
                                         "hosts": [{"name": "h", "cluster": "c", "cpu_num": 2,
                                                    "memory": "4G"}]})
        def test_inline_topology(fakestack):
            assert [h.name for h in fakestack.hosts] == ["h"]

        @pytest.mark.fakestack(seed=5)
        class TestClassMarker:
            def test_inherits(self, fakestack):
                assert fakestack.seed == 5
    """,
    )
    result.assert_outcomes(passed=4)


def test_ini_options_set_the_project_default(pytester):
    result = run(
        pytester,
        """
        import pytest

        def test_from_ini(fakestack):
            assert (fakestack.topology.name, fakestack.seed) == ("tiny", 7)

        @pytest.mark.fakestack(seed=1)
        def test_marker_beats_ini(fakestack):
            assert (fakestack.topology.name, fakestack.seed) == ("tiny", 1)
    """,
        ini="[pytest]\nfakestack_topology = tiny\nfakestack_seed = 7\n",
    )
    result.assert_outcomes(passed=2)


def test_command_line_seed_beats_ini_but_not_the_marker(pytester):
    result = run(
        pytester,
        """
        import pytest

        def test_from_option(fakestack):
            assert fakestack.seed == 99

        @pytest.mark.fakestack(seed=1)
        def test_marker_wins(fakestack):
            assert fakestack.seed == 1
    """,
        "--fakestack-seed",
        "99",
        ini="[pytest]\nfakestack_seed = 7\n",
    )
    result.assert_outcomes(passed=2)


def test_same_seed_same_ids(pytester):
    result = run(
        pytester,
        """
        import fakestack as fs

        def test_ids(fakestack):
            twin = fs.Cloud("demo", seed=0, clock=fs.ManualClock())
            assert fakestack.snapshot() == twin.snapshot()
    """,
    )
    result.assert_outcomes(passed=1)


def test_bad_marker_arguments_are_a_usage_error(pytester):
    result = run(
        pytester,
        """
        import pytest

        @pytest.mark.fakestack(topolgy="tiny")
        def test_typo(fakestack):
            pass
    """,
    )
    result.stdout.fnmatch_lines(["*unknown argument 'topolgy'*"])
    assert result.ret != 0


def test_marker_is_registered(pytester):
    result = run(pytester, "def test_nothing():\n    pass\n", "--strict-markers", "--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.fakestack(topology=None, seed=None, clock=None)*"])


def test_failure_report_shows_requests_faults_and_capacity(pytester):
    result = run(
        pytester,
        """
        from fakestack import faults

        def test_fails(fakestack, fakestack_client):
            faults.add(fakestack, faults.exhaust("vm.clone", "host.cpu", nth=2))
            fakestack.clone_vm("golden", ["a", "b", "c"])
            fakestack_client.post("/_fakestack/clock", json={"advance": 5})
            assert len(fakestack.vms) == 4

        def test_passes(fakestack):
            pass

        def test_no_fakestack():
            assert False
    """,
    )
    result.assert_outcomes(passed=1, failed=2)
    out = result.stdout.str()
    assert out.count(" fakestack ---") == 1  # the test without a fixture has none
    section = out.split(" fakestack ---")[1].split("_ test_no_fakestack _")[0]
    for expected in (
        "cloud: topology demo, seed 0, manual clock, now 2026-01-01T00:00:05+00:00",
        "last requests (1 of 1):",
        "#1 POST /_fakestack/clock -> 200",
        'request:  {"advance": 5}',
        'vm.clone("golden", ["a", "b", "c"]) -> ok [',
        "f1: vm.clone [nth=2] -> exhaust(resource=host.cpu): calls 3, hits 1",
        "host host-3 cpu",
        "primary nfs-ps physical",
        "backup imagestore",
    ):
        assert expected in section, expected


def test_live_server_is_shared_and_reset_per_test(pytester):
    result = run(
        pytester,
        """
        import json, urllib.request
        import pytest
        from fakestack import faults

        URLS = []

        def get(url):
            with urllib.request.urlopen(url, timeout=5) as r:
                return json.load(r)

        def test_first(fakestack_server):
            URLS.append(fakestack_server.url)
            assert fakestack_server.url.startswith("http://127.0.0.1:")
            fakestack_server.cloud.create_vm("web", image="centos-7", instance_offering="small")
            faults.add(fakestack_server.cloud, faults.fail("vm.start"))
            assert len(get(fakestack_server.url + "/_fakestack/faults")["rules"]) == 1

        @pytest.mark.fakestack(topology="tiny", seed=3)
        def test_second(fakestack_server):
            URLS.append(fakestack_server.url)
            assert URLS[0] == URLS[1]
            health = get(fakestack_server.url + "/_fakestack/health")
            assert (health["topology"], health["seed"]) == ("tiny", 3)
            assert get(fakestack_server.url + "/_fakestack/faults") == {"rules": []}
            assert [vm.name for vm in fakestack_server.cloud.vms] == ["golden"]

        def test_third(fakestack_server):
            assert get(fakestack_server.url + "/_fakestack/health")["topology"] == "demo"
    """,
    )
    result.assert_outcomes(passed=3)


def test_drop_connection_in_process_and_over_the_live_server(pytester):
    result = run(
        pytester,
        """
        import hashlib
        import httpx
        import pytest
        from fakestack import faults

        LOGIN = {"logInByAccount": {"accountName": "admin",
                                    "password": hashlib.sha512(b"password").hexdigest()}}

        def test_in_process(fakestack, fakestack_client):
            faults.add(fakestack, faults.drop_connection("zstack:LogInByAccount"))
            with pytest.raises(faults.ConnectionDropped):
                fakestack_client.put("/zstack/v1/accounts/login", json=LOGIN)

        def test_live(fakestack_server):
            faults.add(fakestack_server.cloud, faults.drop_connection("zstack:LogInByAccount", nth=1))
            with httpx.Client(base_url=fakestack_server.url, timeout=5) as http:
                with pytest.raises(httpx.RemoteProtocolError):
                    http.put("/zstack/v1/accounts/login", json=LOGIN)
                assert http.put("/zstack/v1/accounts/login", json=LOGIN).status_code == 200
    """,
    )
    result.assert_outcomes(passed=2)


def test_failure_report_of_a_live_server_test_names_its_url(pytester):
    result = run(
        pytester,
        """
        import urllib.request

        def test_fails(fakestack_server):
            urllib.request.urlopen(fakestack_server.url + "/_fakestack/capacity", timeout=5).read()
            urllib.request.urlopen(urllib.request.Request(
                fakestack_server.url + "/_fakestack/clock", data=b'{"advance": 1}',
                method="POST"), timeout=5).read()
            assert False, "look at the fakestack section"
    """,
    )
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert "served at http://127.0.0.1:" in out
    # the admin read is numbered but not kept
    assert "last requests (1 of 1):\n  #2 POST /_fakestack/clock -> 200" in out
    assert "fault plan:\n  (no rules)" in out
