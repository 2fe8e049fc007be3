"""The oracle feeder: meter sources -> VEE -> hourly figures -> SQLite store -> k-of-n signed
reports -> outbox -> `submitReports` transactions, exactly once per (facility, hour).

    store.FeederStore      the database and its public read API (readings, hour, quarantine, status)
    keys                   signer and transmitter keys (environment, keystores; dev keys on dev chains only)
    transmit.Transmitter   batches, nonces, resends, reconciliation with the chain
    service.Feeder         the pipeline: backfill(start, end, progress) and run_forever(stop_event)
    cli                    `python -m greenbond feeder run|backfill|status|verify|quarantine`
"""
