-- Local seed data (SPEC "Simulated venue and seed data"). Idempotent: safe to run on every start.
INSERT OR IGNORE INTO accounts (trader_id, cash_cents) VALUES
  ('alice', 1500000),
  ('bob', 500000),
  ('carol', 1000000000);

INSERT OR IGNORE INTO instruments (symbol, name, price_cents, tick_cents, depth, tradable, faults) VALUES
  ('AAPL', 'Apple Inc.', 15000, 1, 100000, 1, '{}'),
  ('MSFT', 'Microsoft Corp.', 42000, 1, 100000, 1, '{}'),
  ('TSLA', 'Tesla Inc.', 25000, 1, 50000, 1, '{}'),
  ('TEST_TIMEOUT', 'Test: the first venue attempt of each order times out', 10000, 1, 100000, 1, '{"timeout_first_attempts":1}'),
  ('TEST_PARTIAL', 'Test: 50 shares per price level, tick 0.05', 15000, 5, 50, 1, '{}'),
  ('TEST_REJECT', 'Test: the venue rejects every order', 10000, 1, 100000, 1, '{"reject_rate":1}');
