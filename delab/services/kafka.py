"""A Kafka cluster for notebooks (week 6): librdkafka's built-in mock cluster, in this process.

    from delab.services.kafka import kafka
    broker = kafka()                                  # 3 mock brokers on loopback ports
    broker.create_topic("trip-events", partitions=4)
    Producer(broker.config())                         # {"bootstrap.servers": ..., quiet logs}
    Consumer(broker.config(**{"group.id": "loader", "auto.offset.reset": "earliest"}))
    broker.stop()

* The mock cluster speaks the real Kafka protocol (produce, fetch, consumer groups, committed
  offsets), keeps messages in memory and lives as long as the handle (or this Python process).
  It is created through librdkafka's mock API, which also sets the group join delay to 0 (a real
  broker waits 3 s for more members) and creates topics with a chosen partition count. If that API
  is not reachable, a client with ``test.mock.num.brokers`` hosts the cluster instead (topics are
  then auto-created with 4 partitions on first use, and a group join takes ~3 s).
* ``KAFKA_BOOTSTRAP_SERVERS`` set: the same call returns a handle on that cluster instead; nothing is
  started, ``create_topic`` uses the admin API (recreating the topic, so reruns start empty) and
  ``stop()`` does nothing.
"""

from __future__ import annotations

import ctypes
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .errors import ServiceError

BOOTSTRAP_ENV = "KAFKA_BOOTSTRAP_SERVERS"
#: librdkafka log level for the course's clients: errors only (the mock cluster is chatty).
QUIET: dict[str, Any] = {"log_level": 3}
#: Consumer-group timings for the mock cluster: it waits a whole session timeout before a group that a
#: member left can rebalance (45 s by default), so a restarted consumer would wait that long.
MOCK_GROUP: dict[str, Any] = {"session.timeout.ms": 2000, "heartbeat.interval.ms": 400}
_log = logging.getLogger("delab.services")


class _MockAPI:
    """librdkafka's C mock-cluster functions, from the library confluent-kafka ships."""

    def __init__(self) -> None:
        import confluent_kafka

        package = Path(confluent_kafka.__file__).resolve().parent
        found = sorted(package.parent.glob("confluent_kafka.libs/librdkafka*.so*"))
        if not found:
            raise OSError("confluent-kafka's bundled librdkafka was not found")
        lib = ctypes.CDLL(str(found[0]))
        vp, cp = ctypes.c_void_p, ctypes.c_char_p
        self._sig(lib.rd_kafka_conf_new, vp, [])
        self._sig(lib.rd_kafka_conf_set, ctypes.c_int, [vp, cp, cp, cp, ctypes.c_size_t])
        self._sig(lib.rd_kafka_new, vp, [ctypes.c_int, vp, cp, ctypes.c_size_t])
        self._sig(lib.rd_kafka_destroy, None, [vp])
        self._sig(lib.rd_kafka_mock_cluster_new, vp, [vp, ctypes.c_int])
        self._sig(lib.rd_kafka_mock_cluster_destroy, None, [vp])
        self._sig(lib.rd_kafka_mock_cluster_bootstraps, cp, [vp])
        self._sig(lib.rd_kafka_mock_group_initial_rebalance_delay_ms, None, [vp, ctypes.c_int32])
        self._sig(lib.rd_kafka_mock_topic_create, ctypes.c_int, [vp, cp, ctypes.c_int, ctypes.c_int])
        self.lib = lib

    @staticmethod
    def _sig(fn: Any, restype: Any, argtypes: list[Any]) -> None:
        fn.restype, fn.argtypes = restype, argtypes


class _CtypesCluster:
    """A mock cluster owned through the C API: exact partition counts, instant group joins."""

    def __init__(self, brokers: int) -> None:
        self.api = _MockAPI()
        lib, err = self.api.lib, ctypes.create_string_buffer(512)
        conf = lib.rd_kafka_conf_new()
        lib.rd_kafka_conf_set(conf, b"log_level", b"3", err, 512)
        self.rk = lib.rd_kafka_new(0, conf, err, 512)  # 0: a producer handle, only to own the cluster
        if not self.rk:
            raise OSError(err.value.decode())
        self.cluster = lib.rd_kafka_mock_cluster_new(self.rk, brokers)
        if not self.cluster:
            lib.rd_kafka_destroy(self.rk)
            raise OSError("rd_kafka_mock_cluster_new failed")
        lib.rd_kafka_mock_group_initial_rebalance_delay_ms(self.cluster, 0)
        self.bootstrap_servers = lib.rd_kafka_mock_cluster_bootstraps(self.cluster).decode()
        self.replication = min(brokers, 3)

    def create_topic(self, name: str, partitions: int) -> None:
        code = self.api.lib.rd_kafka_mock_topic_create(self.cluster, name.encode(), partitions,
                                                       self.replication)
        if code:
            raise ServiceError(f"the mock cluster refused topic {name!r} (librdkafka error {code})")

    def close(self) -> None:
        if self.cluster:
            self.api.lib.rd_kafka_mock_cluster_destroy(self.cluster)
            self.api.lib.rd_kafka_destroy(self.rk)
            self.cluster = self.rk = None


class _HostedCluster:
    """Fallback: a Producer configured with ``test.mock.num.brokers`` hosts the cluster."""

    def __init__(self, brokers: int) -> None:
        from confluent_kafka import Producer

        self.host = Producer({"test.mock.num.brokers": brokers, **QUIET})
        found = self.host.list_topics(timeout=10).brokers.values()
        self.bootstrap_servers = ",".join(f"{b.host}:{b.port}" for b in found)

    def create_topic(self, name: str, partitions: int) -> None:
        if partitions != 4:
            _log.warning("this mock cluster creates topics with 4 partitions, not %d", partitions)
        self.host.list_topics(name, timeout=10)  # asking for its metadata auto-creates it

    def close(self) -> None:
        self.host = None


_Cluster = _CtypesCluster | _HostedCluster


class Kafka:
    """A handle on a Kafka cluster: the in-process mock started here, or ``KAFKA_BOOTSTRAP_SERVERS``."""

    def __init__(self, bootstrap_servers: str, cluster: _Cluster | None = None) -> None:
        self.bootstrap_servers = bootstrap_servers
        self._cluster = cluster

    @property
    def local(self) -> bool:
        """True for the in-process mock cluster."""
        return self._cluster is not None

    def config(self, **settings: Any) -> dict[str, Any]:
        """Client settings: ``bootstrap.servers``, quiet logs, then ``settings`` (``group_id=`` or
        ``**{"group.id": ...}``); for the mock cluster also :data:`MOCK_GROUP`, so that a restarted
        consumer rejoins its group in about 2 s (producers ignore these consumer settings)."""
        extra = {k if "." in k or k == "log_level" else k.replace("_", "."): v for k, v in settings.items()}
        group = MOCK_GROUP if self.local else {}
        return {"bootstrap.servers": self.bootstrap_servers, **QUIET, **group, **extra}

    def create_topic(self, name: str, partitions: int = 4) -> str:
        """Create topic ``name`` with ``partitions`` (on a real cluster: drop and recreate it)."""
        if partitions < 1:
            raise ValueError("a topic needs at least one partition")
        if self._cluster is None:
            _recreate_topic(self.config(), name, partitions)
        else:
            self._cluster.create_topic(name, partitions)
        return name

    def stop(self) -> None:
        """Destroy the mock cluster and its messages (safe twice); does nothing for a real cluster."""
        if self._cluster is not None:
            self._cluster.close()

    def __enter__(self) -> Kafka:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = "mock, in this process" if self.local else BOOTSTRAP_ENV
        return f"Kafka({where}, bootstrap_servers={self.bootstrap_servers!r})"


def kafka(brokers: int = 3) -> Kafka:
    """Start a mock cluster of ``brokers`` brokers in this process, or use ``KAFKA_BOOTSTRAP_SERVERS``."""
    external = os.environ.get(BOOTSTRAP_ENV, "").strip()
    if external:
        if any(":" not in part for part in external.split(",")):
            raise ServiceError(f"{BOOTSTRAP_ENV}={external!r}: use host:port[,host:port...]")
        return Kafka(external)
    if not isinstance(brokers, int) or not 1 <= brokers <= 16:
        raise ValueError(f"brokers={brokers!r}: use 1 to 16")
    starters: list[Callable[[int], _Cluster]] = [_CtypesCluster, _HostedCluster]
    for start in starters:
        try:
            cluster = start(brokers)
        except (OSError, AttributeError) as exc:
            _log.info("mock Kafka through %s unavailable (%s)", start.__name__, exc)
            continue
        return Kafka(cluster.bootstrap_servers, cluster)
    raise ServiceError("could not start librdkafka's mock cluster: is confluent-kafka installed? "
                       f"Or set {BOOTSTRAP_ENV} to a real cluster")


def _recreate_topic(config: dict[str, Any], name: str, partitions: int) -> None:
    """Drop ``name`` if it exists, then create it, on a real cluster."""
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient(config)
    try:
        if name in admin.list_topics(timeout=10).topics:
            admin.delete_topics([name], operation_timeout=30)[name].result()
    except KafkaException as exc:
        raise ServiceError(f"could not delete topic {name!r} on {config['bootstrap.servers']}: {exc}") \
            from exc
    for attempt in range(10):  # a deleted topic's name is free again only after a moment
        try:
            admin.create_topics([NewTopic(name, partitions)], operation_timeout=30)[name].result()
            return
        except KafkaException as exc:
            if attempt == 9:
                raise ServiceError(f"could not create topic {name!r} on {config['bootstrap.servers']}: "
                                   f"{exc}") from exc
            time.sleep(1)
