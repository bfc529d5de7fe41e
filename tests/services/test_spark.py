"""delab.services.spark: settings, clear errors before any JVM starts, and one real local session."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from delab import doctor
from delab.services import ServiceError
from delab.services import spark as sparkmod


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DELAB_STATE", str(tmp_path))
    monkeypatch.delenv("SPARK_MASTER", raising=False)
    return tmp_path


def test_default_master_is_local_two_threads(state: Path) -> None:
    assert sparkmod.spark_master() == "local[2]"


@pytest.mark.parametrize("master", ["local", "local[*]", "local[4]", "spark://head:7077", "yarn",
                                    "k8s://https://api:6443"])
def test_spark_master_accepts_cluster_urls(state: Path, monkeypatch: pytest.MonkeyPatch, master: str) -> None:
    monkeypatch.setenv("SPARK_MASTER", master)
    assert sparkmod.spark_master() == master


def test_a_bad_spark_master_is_refused(state: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPARK_MASTER", "localhost:7077")
    with pytest.raises(ServiceError, match=r"SPARK_MASTER='localhost:7077'.*spark://host:7077"):
        sparkmod.spark_session()


def test_settings_local_mode(state: Path) -> None:
    conf = sparkmod.session_conf("local[2]", "2g", {"sql_shuffle_partitions": 3,
                                                     "spark.sql.ansi.enabled": False})
    assert conf["spark.driver.memory"] == "2g"
    assert conf["spark.sql.session.timeZone"] == "UTC"
    assert conf["spark.ui.enabled"] == "false"
    assert conf["spark.driver.bindAddress"] == "127.0.0.1"
    assert conf["spark.sql.shuffle.partitions"] == "3"      # short form, spark. prefix added
    assert conf["spark.sql.ansi.enabled"] == "false"        # booleans as Spark spells them
    assert conf["spark.local.dir"] == str(state / "spark" / "local")
    assert conf["spark.sql.warehouse.dir"] == str(state / "spark" / "warehouse")
    assert (state / "spark" / "log4j2.properties").is_file()


def test_settings_on_a_cluster_do_not_pin_the_driver_to_loopback(state: Path) -> None:
    conf = sparkmod.session_conf("spark://head:7077", None, {})
    assert "spark.driver.host" not in conf
    assert conf["spark.driver.memory"] == sparkmod.DEFAULT_MEMORY


@pytest.mark.parametrize("memory", ["lots", "2 GB", "-1g"])
def test_a_bad_memory_size_is_refused(state: Path, memory: str) -> None:
    with pytest.raises(ServiceError, match="not a JVM size"):
        sparkmod.session_conf("local[2]", memory, {})


def test_missing_java_says_how_to_install_it(state: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(doctor, "java_version", lambda java=None: None)
    with pytest.raises(ServiceError, match="openjdk-17"):
        sparkmod.spark_session()


def test_old_java_is_refused(state: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(doctor, "java_version", lambda java=None: 11)
    with pytest.raises(ServiceError, match="Java 17\\+, found Java 11"):
        sparkmod.check_java()


def test_no_java_on_path_is_reported(state: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "no-java"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ServiceError, match="none was found"):
        sparkmod.check_java()


def test_stop_spark_without_a_session_does_nothing() -> None:
    sparkmod.stop_spark()
    sparkmod.stop_spark()


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    if doctor.java_version() is None:
        pytest.skip("no Java: Spark cannot start here")
    state = tmp_path_factory.mktemp("spark-state")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DELAB_STATE", str(state))
        mp.delenv("SPARK_MASTER", raising=False)
        spark = sparkmod.spark_session("delab-test", memory="512m", sql_shuffle_partitions=3)
        yield spark
        sparkmod.stop_spark()


@pytest.mark.slow
@pytest.mark.spark
def test_a_local_session_with_the_course_settings(session) -> None:
    spark = session
    assert spark.sparkContext.master == "local[2]"
    conf = spark.sparkContext.getConf()
    assert conf.get("spark.driver.memory") == "512m"
    assert conf.get("spark.ui.enabled") == "false"
    assert spark.conf.get("spark.sql.session.timeZone") == "UTC"
    assert spark.conf.get("spark.sql.shuffle.partitions") == "3"
    assert os.environ["PYSPARK_PYTHON"] == __import__("sys").executable
    assert os.environ["MALLOC_ARENA_MAX"]  # keeps the JVM's address space under RLIMIT_AS
    rows = spark.sql("SELECT city, count(*) AS n FROM VALUES ('a'), ('a'), ('b') AS t(city) GROUP BY city")
    assert sorted(map(tuple, rows.collect())) == [("a", 2), ("b", 1)]
    stamp = spark.sql("SELECT CAST('2025-01-06 08:00:00' AS TIMESTAMP) AS t").toPandas()["t"][0]
    assert str(stamp) == "2025-01-06 08:00:00"


@pytest.mark.slow
@pytest.mark.spark
def test_python_workers_run_and_the_session_is_reused(session) -> None:
    spark = session
    doubled = spark.range(4).rdd.map(lambda row: row.id * 2).collect()   # runs in Python workers
    assert doubled == [0, 2, 4, 6]
    again = sparkmod.spark_session("another-name", sql_shuffle_partitions=5)
    assert again is spark
    assert spark.conf.get("spark.sql.shuffle.partitions") == "5"   # runtime settings are applied


@pytest.mark.slow
@pytest.mark.spark
def test_scratch_and_jvm_log_live_in_the_state_folder(session) -> None:
    local_dir = Path(session.sparkContext.getConf().get("spark.local.dir"))
    assert local_dir.parent.name == "spark" and local_dir.is_dir()
    assert (local_dir.parent / "driver.log").is_file()
