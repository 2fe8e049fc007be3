"""Optional Prometheus metrics (prometheus-client): counters of readings, hours, reports sent,
confirmed, resent and failed, RPC errors, gas used, chain reorganisations that touched confirmed
reports and the reports they put back, messages received per source (and received again), gauges
read from the database at each scrape (last confirmed hour and staleness per facility, open
quarantine by reason, outbox by state: greenbond/feeder/health.py), corrections queued for hours whose readings changed after
their report (and unsent reports recomputed in place instead), and the last confirmed hour. Served on
`--metrics-port` when given; without prometheus-client installed, `make_metrics` returns None."""

from __future__ import annotations


class Metrics:
    def __init__(self):
        from prometheus_client import CollectorRegistry, Counter, Gauge

        self.registry = CollectorRegistry()
        r = self.registry
        self.readings_total = Counter("greenbond_feeder_readings", "Readings stored under hourly roots", registry=r)
        self.quarantined_total = Counter("greenbond_feeder_quarantined", "Quarantine entries recorded", ["reason"], registry=r)
        self.hours_total = Counter("greenbond_feeder_hours", "Hourly figures stored and signed", registry=r)
        self.reports_sent_total = Counter("greenbond_feeder_reports_sent", "Reports sent in transactions", registry=r)
        self.reports_confirmed_total = Counter("greenbond_feeder_reports_confirmed", "Reports confirmed on chain", registry=r)
        self.reports_failed_total = Counter("greenbond_feeder_reports_failed", "Reports the oracle rejected", registry=r)
        self.resent_total = Counter("greenbond_feeder_transactions_resent", "Transactions sent again", registry=r)
        self.rpc_errors_total = Counter("greenbond_feeder_rpc_errors", "RPC node outages seen", registry=r)
        self.reorgs_total = Counter("greenbond_feeder_reorgs",
                                    "Chain reorganisations that removed or moved confirmed reports", registry=r)
        self.reports_rolled_back_total = Counter("greenbond_feeder_reports_rolled_back",
                                                 "Confirmed reports a reorganisation put back to send", registry=r)
        self.corrections_queued_total = Counter("greenbond_feeder_corrections_queued",
                                                "Corrections queued for hours whose readings changed", registry=r)
        self.reports_recomputed_total = Counter("greenbond_feeder_reports_recomputed",
                                                "Unsent reports recomputed in place after their readings changed",
                                                registry=r)
        self.gas_used_total = Counter("greenbond_feeder_gas_used", "Gas used by mined report transactions", registry=r)
        self.pending = Gauge("greenbond_feeder_outbox_pending", "Reports waiting in the outbox", registry=r)
        self.last_confirmed_hour = Gauge("greenbond_feeder_last_confirmed_hour",
                                         "Start (unix s) of the facility's last hour confirmed on chain", ["facility"],
                                         registry=r)
        self.staleness = Gauge("greenbond_feeder_staleness_seconds",
                               "Chain time since the end of the facility's last confirmed hour", ["facility"],
                               registry=r)
        self.quarantine_open = Gauge("greenbond_feeder_quarantine_open",
                                     "Quarantine entries not acknowledged, by reason", ["reason"], registry=r)
        self.outbox = Gauge("greenbond_feeder_outbox", "Reports in the outbox, by state", ["state"], registry=r)
        self.readings_received_total = Counter("greenbond_feeder_readings_received",
                                               "Readings received, per source (sim, csv, mqtt), before validation",
                                               ["source"], registry=r)
        self.messages_received_total = Counter("greenbond_feeder_messages_received",
                                               "Messages received and kept, per source (a redelivery counted once)",
                                               ["source"], registry=r)
        self.messages_redelivered_total = Counter("greenbond_feeder_messages_redelivered",
                                                  "Messages received again that were already kept", ["source"],
                                                  registry=r)

    def stored(self, readings: int, hours: int, quarantine: dict[str, int]) -> None:
        self.readings_total.inc(readings)
        self.hours_total.inc(hours)
        for reason, n in quarantine.items():
            self.quarantined_total.labels(reason).inc(n)

    def sent(self, n: int) -> None:
        self.reports_sent_total.inc(n)

    def confirmed(self, n: int, gas_used: int) -> None:
        self.reports_confirmed_total.inc(n)
        self.gas_used_total.inc(gas_used)

    def failed(self) -> None:
        self.reports_failed_total.inc()

    def resent(self) -> None:
        self.resent_total.inc()

    def reorg(self, rolled_back: int) -> None:
        self.reorgs_total.inc()
        self.reports_rolled_back_total.inc(rolled_back)

    def corrections(self, queued: int, recomputed: int) -> None:
        self.corrections_queued_total.inc(queued)
        self.reports_recomputed_total.inc(recomputed)

    def readings_received(self, source: str, n: int) -> None:
        self.readings_received_total.labels(source).inc(n)

    def received(self, source: str, kept: int, again: int) -> None:
        self.messages_received_total.labels(source).inc(kept)
        self.messages_redelivered_total.labels(source).inc(again)

    def rpc_error(self) -> None:
        self.rpc_errors_total.inc()


def make_metrics() -> Metrics | None:
    try:
        return Metrics()
    except ImportError:
        return None
