"""Infrastructure every chainclub process uses: config, db, outbox, bus, inbox, grpc, auth,
money, errors, telemetry, the dev supervisor and the pytest plugin. No domain code here."""
