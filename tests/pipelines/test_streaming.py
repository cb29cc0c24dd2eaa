"""The streaming job's options: what it adds to the Beam flags it is given."""

from pipelines.streaming import JOB_STREAM_SECONDS, runner_args

PRISM = "--prism_location=/opt/prism"


def option(args: list[str], name: str) -> str | None:
    values = [a.split("=", 1)[1] for a in args if a.startswith(f"--{name}=")]
    return values[-1] if values else None


def test_a_bounded_run_uses_the_direct_runner_and_keeps_beams_timeouts():
    args = runner_args([], bounded=True)
    assert option(args, "runner") == "DirectRunner"
    assert option(args, "job_server_timeout") is None


def test_an_unbounded_job_outlives_beams_five_minute_job_stream_deadline():
    args = runner_args(["--runner=PrismRunner", PRISM], bounded=False)
    assert int(option(args, "job_server_timeout") or 0) == JOB_STREAM_SECONDS > 365 * 24 * 3600


def test_a_timeout_the_operator_gave_is_kept():
    args = runner_args(["--runner=PrismRunner", PRISM, "--job_server_timeout=900"], bounded=False)
    assert [a for a in args if "job_server_timeout" in a] == ["--job_server_timeout=900"]
