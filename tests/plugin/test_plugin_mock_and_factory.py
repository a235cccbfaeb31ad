"""The plugin's ``fakestack_mock`` fixture and marker, ``fakestack_server`` over TLS, and
``fakestack_factory`` for hypothesis ``@given`` tests (no health check suppressed)."""

pytest_plugins = ["pytester"]


def run(pytester, source, *args):
    pytester.makepyfile(source)
    return pytester.runpytest("-p", "no:cacheprovider", "-W", "ignore::DeprecationWarning", *args)


def test_mock_fixture_and_marker_answer_requests_in_process(pytester):
    result = run(
        pytester,
        """
        import httpx
        import pytest
        import requests

        import fakestack as fs

        def test_fixture(fakestack, fakestack_mock):
            assert fakestack_mock.cloud is fakestack
            assert requests.get("https://anything.example/_fakestack/health").json()["seed"] == 0

        @pytest.mark.fakestack(topology="tiny", seed=4)
        @pytest.mark.fakestack_mock(urls=["http://zstack.example:8080"])
        def test_marker(fakestack):
            health = httpx.get("http://zstack.example:8080/_fakestack/health").json()
            assert (health["topology"], health["seed"]) == ("tiny", 4)
            with pytest.raises(fs.UnmatchedRequest):
                requests.get("http://elsewhere.example/")

        def test_not_mocked_after_the_test():
            assert fs.Mock.current() is None
    """,
    )
    result.assert_outcomes(passed=3)


def test_live_server_over_tls(pytester):
    result = run(
        pytester,
        """
        import pytest
        import requests

        @pytest.mark.fakestack(topology="tiny", tls=True)
        def test_https(fakestack_server):
            assert fakestack_server.url.startswith("https://127.0.0.1:")
            assert requests.get(fakestack_server.url + "/_fakestack/health",
                                verify=False).json()["topology"] == "tiny"

        def test_plain(fakestack_server):
            assert fakestack_server.url.startswith("http://127.0.0.1:")
    """,
    )
    result.assert_outcomes(passed=2)


def test_factory_gives_each_hypothesis_example_a_fresh_cloud(pytester):
    result = run(
        pytester,
        """
        from hypothesis import given, settings, strategies as st

        from fakestack import faults

        SEEN = []

        @settings(max_examples=15, database=None)
        @given(n=st.integers(0, 3))
        def test_fresh(fakestack_factory, n):
            fresh = fakestack_factory()
            cloud = fresh.cloud
            assert [vm.name for vm in cloud.vms] == ["golden"]
            assert cloud.clock.now() == 1767225600.0
            assert faults.list_rules(cloud) == []
            assert fresh.app.request_seq == 0
            faults.add(cloud, faults.exhaust("vm.clone", "host.cpu"))
            cloud.tick(30 * (n + 1))
            fresh.client.get("/_fakestack/capacity")
            SEEN.append(fresh.number)

        def test_numbers_count_examples():
            assert SEEN[:3] == [1, 2, 3]

        def test_overrides(fakestack_factory):
            assert fakestack_factory(topology="tiny", seed=7).cloud.seed == 7
    """,
    )
    result.assert_outcomes(passed=3)
    assert "FailedHealthCheck" not in result.stdout.str()


def test_failure_report_shows_the_shrunk_example_with_its_own_request_numbers(pytester):
    result = run(
        pytester,
        """
        import requests
        from hypothesis import given, settings, strategies as st

        @settings(max_examples=50, database=None, derandomize=True)
        @given(names=st.lists(st.sampled_from(["a", "b", "c"]), max_size=6))
        def test_fewer_than_two_health_checks(fakestack_factory, names):
            fresh = fakestack_factory(topology="tiny")
            with fresh.mock(urls=["http://fake.example"]):
                for name in names:
                    requests.get(f"http://fake.example/_fakestack/faults?for={name}")
                    requests.post("http://fake.example/_fakestack/clock", json={"advance": 1})
            assert len(names) < 2
    """,
    )
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert "FailedHealthCheck" not in out and "Flaky" not in out
    report = out[out.index("- fakestack -") :]
    assert (
        "of this test (fakestack_factory: each example has its own cloud; request numbers "
        "restart), the one hypothesis shrank to: names=['a', 'a']"
    ) in report.splitlines()[1]
    # the shrunk example's own requests, numbered from 1 (admin reads count but are not kept)
    assert "last requests (2 of 2):" in report
    assert "#2 POST /_fakestack/clock -> 200" in report and "#4 POST /_fakestack/clock -> 200" in report
    assert "#5 " not in report


def test_failure_report_of_a_mocked_test_lists_the_clients_requests(pytester):
    result = run(
        pytester,
        """
        import pytest
        import requests

        @pytest.mark.fakestack(topology="tiny")
        @pytest.mark.fakestack_mock(urls=["https://vcenter.example"])
        def test_fails():
            requests.get("https://vcenter.example/rest/vcenter/vm")
            assert False
    """,
    )
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert "cloud: topology tiny, seed 0, manual clock" in out
    assert "#1 GET /rest/vcenter/vm -> 401" in out
