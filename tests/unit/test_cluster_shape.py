"""make cluster's shape from the settings alone: the programs (pid names
as DESIGN.md gives them), HAProxy's configuration (which HAProxy itself
accepts), and the kinds one machine runs."""
from __future__ import annotations

import subprocess

import pytest

from bot import cluster
from selfpay.settings import environment


def _env(**overrides):
    return environment({"RASA_INSTANCES": "2", "CLUSTER_PROCESSES": ",".join(cluster.KINDS), "CLUSTER_RASA_SERVERS": "",
                        "CLUSTER_ACTIONS_SERVERS": "", **overrides}, cluster=True)


def test_the_cluster_runs_every_kind_with_the_pid_names_of_the_design(tmp_path):
    names = [p.name for p in cluster.programs("model.tar.gz", _env(), tmp_path / "haproxy.cfg")]
    assert names == ["rasa-1", "rasa-2", "actions-1", "actions-2", "haproxy", "desk", "event-feed", "worker", "beat"]


def test_the_cluster_defaults_are_postgresql_and_redis_and_the_environment_wins(monkeypatch):
    for name in ("DATABASE_URL", "TRACKER_STORE_URL", "LOCK_STORE_TYPE", "OUTREACH_BROKER_URL"):
        monkeypatch.delenv(name, raising=False)
    env = _env()
    assert env["DATABASE_URL"].startswith("postgresql://") and env["TRACKER_STORE_URL"].startswith("postgresql://")
    assert env["LOCK_STORE_TYPE"] == "redis" and env["OUTREACH_BROKER_URL"].startswith("redis://")
    assert _env(DATABASE_URL="postgresql://db.example/billing")["DATABASE_URL"] == "postgresql://db.example/billing"
    # make run's shape is untouched
    assert environment()["LOCK_STORE_TYPE"] == "in_memory" and environment()["DATABASE_URL"].startswith("sqlite")


def test_one_machine_runs_only_the_kinds_it_is_given_and_haproxy_lists_the_others(tmp_path):
    env = _env(CLUSTER_PROCESSES="haproxy,desk", CLUSTER_RASA_SERVERS="10.0.0.2:5006,10.0.0.3:5006")
    assert [p.name for p in cluster.programs("m", env, tmp_path / "h.cfg")] == ["haproxy", "desk"]
    config = cluster.haproxy_config(env)
    assert "server rasa-1 10.0.0.2:5006" in config and "server rasa-2 10.0.0.3:5006" in config
    with pytest.raises(SystemExit, match="CLUSTER_PROCESSES names nginx"):
        cluster.programs("m", _env(CLUSTER_PROCESSES="rasa,nginx"), tmp_path / "h.cfg")


def test_haproxy_accepts_the_configuration_and_hashes_each_channels_conversation(tmp_path):
    config = cluster.haproxy_config(_env(), rasa_port=5005, actions_port=5055)
    for expression in ("json_query('$.sender')", "req.body_param(From),concat(:,txn.to)", "req.body_param(CallSid)",
                       "balance hash var(txn.conversation)", "hash-type consistent", "option httpchk GET /"):
        assert expression in config
    assert "server rasa-1 127.0.0.1:5006" in config and "server actions-2 127.0.0.1:5057" in config
    (tmp_path / "haproxy.cfg").write_text(config)
    checked = subprocess.run([cluster.haproxy_binary(), "-c", "-f", str(tmp_path / "haproxy.cfg")], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
