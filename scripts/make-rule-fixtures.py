#!/usr/bin/env python3
"""Writes fixtures/rules/<rule-id>/{hit,ok}.log: small PostgreSQL stderr logs
(log_line_prefix '%m [%p] %q%u@%d ') that each rule must flag (hit) or leave alone (ok).
Deterministic: re-running gives the same files. Run from the repository root."""
import datetime
import os

BASE = datetime.datetime(2026, 1, 5, 10, 0, 0)


class Log:
    def __init__(self):
        self.lines = []
        self.t = BASE

    def tick(self, ms):
        self.t += datetime.timedelta(milliseconds=ms)

    def stamp(self):
        return self.t.strftime("%Y-%m-%d %H:%M:%S.") + f"{self.t.microsecond // 1000:03d} UTC"

    def execute(self, pid, ms, sql, params=None, plan=None, gap=1.0):
        self.tick(gap + ms)
        p = f"{self.stamp()} [{pid}] app@shop "
        self.lines.append(f"{p}LOG:  duration: {ms:.3f} ms  execute <unnamed>: {sql}")
        if params:
            detail = ", ".join(f"${i + 1} = '{v}'" for i, v in enumerate(params))
            self.lines.append(f"{p}DETAIL:  parameters: {detail}")
        if plan:
            self.lines.append(f"{p}LOG:  duration: {ms:.3f} ms  plan:")
            self.lines.append(f"\tQuery Text: {sql}")
            for l in plan.strip("\n").split("\n"):
                self.lines.append("\t" + l)

    def statement(self, pid, ms, sql, gap=1.0):
        self.tick(gap + ms)
        self.lines.append(f"{self.stamp()} [{pid}] app@shop LOG:  duration: {ms:.3f} ms  statement: {sql}")

    def write(self, path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write("\n".join(self.lines) + "\n")


SEQ_PLAN = """Gather  (cost=1000.00..98765.43 rows=4 width=40) (actual time=0.500..{ms}..{ms} rows=4 loops=1)
  Workers Planned: 2
  Workers Launched: 2
  ->  Parallel Seq Scan on order_items  (cost=0.00..97765.03 rows=2 width=40) (actual time=200.1..{ms} rows=1 loops=3)
        Filter: (order_id = {v})
        Rows Removed by Filter: 1999999
"""
TINY_PLAN = """Seq Scan on seed_meta  (cost=0.00..1.03 rows=3 width=40) (actual time=0.010..0.012 rows=3 loops=1)
"""
INDEX_PLAN = """Index Scan using orders_user_id_idx on orders  (cost=0.43..120.5 rows=30 width=74) (actual time=0.030..{ms} rows=30 loops=1)
  Index Cond: (user_id = {v})
"""


def seq_scan():
    hit = Log()
    for i in range(3):
        ms = 700.0 + i * 10
        hit.execute(101, ms, "SELECT id, product_id, quantity FROM order_items WHERE order_id = $1",
                    [1000 + i], SEQ_PLAN.format(ms=ms, v=1000 + i))
    hit.write("fixtures/rules/seq-scan/hit.log")
    ok = Log()
    for i in range(3):
        ok.statement(101, 0.05, "SELECT key, value FROM seed_meta")
        ok.lines.append(f"{ok.stamp()} [101] app@shop LOG:  duration: 0.050 ms  plan:")
        ok.lines.append("\tQuery Text: SELECT key, value FROM seed_meta")
        ok.lines.append("\t" + TINY_PLAN.strip())
    ok.write("fixtures/rules/seq-scan/ok.log")


def missing_index():
    hit = Log()
    for i in range(6):
        hit.execute(201, 180.0 + i, "SELECT id, total FROM orders WHERE user_id = $1 AND status = 'completed' "
                    "ORDER BY created_at DESC LIMIT 20", [40 + i])
        hit.execute(201, 150.0 + i, "SELECT count(*) FROM orders WHERE user_id = $1 AND status = 'completed'",
                    [40 + i])
        hit.execute(201, 90.0, "SELECT id FROM orders WHERE status = 'pending'")
    hit.write("fixtures/rules/missing-index/hit.log")
    ok = Log()
    for i in range(6):
        # fast primary-key lookups; a slow statement whose plan shows an index in use
        ok.execute(202, 0.4, "SELECT name, email FROM users WHERE id = $1", [i])
        ok.execute(202, 40.0, "SELECT id, total FROM orders WHERE user_id = $1", [i],
                   INDEX_PLAN.format(ms=40.0, v=i))
        ok.execute(202, 3.0, "SELECT id FROM products WHERE category = $1", ["books"])
    ok.write("fixtures/rules/missing-index/ok.log")


def select_star():
    hit = Log()
    for i in range(12):
        hit.execute(301, 0.6, "SELECT * FROM users WHERE id = $1", [i])
        hit.execute(301, 0.7, "SELECT o.* FROM orders o JOIN users u ON u.id = o.user_id WHERE u.email = $1",
                    [f"u{i}@example.com"])
    hit.write("fixtures/rules/select-star/hit.log")
    ok = Log()
    for i in range(12):
        ok.execute(302, 0.5, "SELECT name, profile_picture FROM users WHERE id = $1", [i])
        ok.execute(302, 0.5, "SELECT count(*) FROM orders WHERE user_id = $1", [i])
        ok.execute(302, 0.5, "SELECT id FROM users u WHERE EXISTS (SELECT * FROM orders o WHERE o.user_id = u.id) "
                   "AND u.id = $1", [i])
    ok.statement(302, 0.2, "SELECT * FROM seed_meta")
    ok.write("fixtures/rules/select-star/ok.log")


def n_plus_one():
    hit = Log()
    for loop in range(3):
        pid = 400 + loop % 2
        hit.execute(pid, 2.0, "SELECT id, created_at FROM orders WHERE user_id = $1 ORDER BY created_at DESC LIMIT 20 "
                    "/*controller='orders',action='index'*/", [7 + loop], gap=40)
        for k in range(8):
            hit.execute(pid, 0.08, "SELECT product_id, quantity FROM order_items WHERE order_id = $1 "
                        "/*controller='orders',action='index'*/", [1000 * loop + k], gap=0.2)
    hit.write("fixtures/rules/n-plus-one/hit.log")
    ok = Log()
    for loop in range(3):
        ok.execute(410, 2.0, "SELECT id FROM orders WHERE user_id = $1", [7], gap=40)
        # same value every time: a repeat, not a loop over rows
        for k in range(8):
            ok.execute(410, 0.08, "SELECT value FROM settings WHERE key = $1", ["tz"], gap=0.2)
        # distinct values, but each a second apart: not one loop
        for k in range(8):
            ok.execute(411, 0.08, "SELECT name FROM products WHERE id = $1", [k + loop * 10], gap=1500)
    ok.write("fixtures/rules/n-plus-one/ok.log")


def repeated_query():
    hit = Log()
    for i in range(30):
        hit.execute(500 + i % 3, 12.0, "SELECT count(*) AS orders, sum(total) FROM orders WHERE user_id = $1",
                    [42 + i % 2], gap=300)
        if i % 10 == 0:
            hit.execute(503, 1.5, "INSERT INTO orders (user_id, status, total) VALUES ($1, 'pending', $2) RETURNING id",
                        [42, "10.00"])
    hit.write("fixtures/rules/repeated-query/hit.log")
    ok = Log()
    for i in range(30):
        ok.execute(510, 12.0, "SELECT count(*) FROM orders WHERE user_id = $1", [i], gap=300)
        ok.statement(510, 0.01, "SELECT 1")
    ok.write("fixtures/rules/repeated-query/ok.log")


def leading_wildcard_like():
    hit = Log()
    for i in range(5):
        hit.statement(601, 95.0, "SELECT id, name FROM products WHERE name ILIKE '%phone%'")
        hit.execute(601, 80.0, "SELECT id FROM users WHERE email LIKE $1", [f"%@example{i}.com"])
    hit.write("fixtures/rules/leading-wildcard-like/hit.log")
    ok = Log()
    for i in range(5):
        ok.statement(602, 95.0, "SELECT id, name FROM products WHERE sku LIKE 'AB-%'")
        ok.execute(602, 2.0, "SELECT id FROM tags WHERE name LIKE $1", ["%x%"])
    ok.write("fixtures/rules/leading-wildcard-like/ok.log")


def function_on_column():
    hit = Log()
    for i in range(5):
        hit.execute(701, 60.0, "SELECT id FROM users WHERE lower(email) = $1", [f"u{i}@example.com"])
        hit.execute(701, 45.0, "SELECT count(*) FROM orders WHERE date(created_at) = $1", ["2026-01-0" + str(i + 1)])
    hit.write("fixtures/rules/function-on-column/hit.log")
    ok = Log()
    for i in range(5):
        ok.execute(702, 60.0, "SELECT id FROM users WHERE email = lower($1)", [f"U{i}@example.com"])
        ok.execute(702, 0.5, "SELECT id FROM users WHERE lower(email) = $1", [f"u{i}@example.com"])
    ok.write("fixtures/rules/function-on-column/ok.log")


def large_offset():
    hit = Log()
    for i in range(3):
        hit.statement(801, 250.0, f"SELECT id, title FROM posts ORDER BY created_at DESC LIMIT 20 OFFSET {40000 + i * 20}")
        hit.execute(801, 300.0, "SELECT id FROM comments ORDER BY id LIMIT $1 OFFSET $2", [20, 50000 + i])
    hit.write("fixtures/rules/large-offset/hit.log")
    ok = Log()
    for i in range(3):
        ok.statement(802, 2.0, f"SELECT id, title FROM posts ORDER BY created_at DESC LIMIT 20 OFFSET {i * 20}")
    ok.write("fixtures/rules/large-offset/ok.log")


SORT_PLAN = """Sort  (cost=82964.10..83842.77 rows=351467 width=22) (actual time=1113.2..1233.9 rows=350315 loops=1)
  Sort Key: (date_trunc('month'::text, created_at))
  Sort Method: external merge  Disk: 11336kB
  ->  Seq Scan on orders  (cost=0.00..43378.67 rows=351467 width=22) (actual time=0.2..930.9 rows=350315 loops=1)
        Filter: (created_at >= '2024-01-01 00:00:00+00'::timestamp with time zone)
        Rows Removed by Filter: 1149685
"""


def disk_spill():
    hit = Log()
    for i in range(2):
        sql = "SELECT date_trunc('month', created_at) AS month, count(*) FROM orders WHERE created_at >= $1 GROUP BY 1 ORDER BY 1"
        hit.execute(901, 1600.0, sql, ["2024-01-01"], SORT_PLAN)
        hit.lines.append(f"{hit.stamp()} [901] app@shop LOG:  temporary file: path \"base/pgsql_tmp/pgsql_tmp901.{i}\", size 11608064")
    hit.write("fixtures/rules/disk-spill/hit.log")
    ok = Log()
    for i in range(2):
        ok.execute(902, 5.0, "SELECT id FROM orders WHERE user_id = $1 ORDER BY created_at DESC LIMIT 10", [i])
        # a small spill (512 kB) below the threshold
        ok.lines.append(f"{ok.stamp()} [902] app@shop LOG:  temporary file: path \"base/pgsql_tmp/pgsql_tmp902.{i}\", size 524288")
    ok.write("fixtures/rules/disk-spill/ok.log")


MISEST_PLAN = """Hash Join  (cost=10.0..900.0 rows=12 width=16) (actual time=5.0..{ms} rows=48211 loops=1)
  Hash Cond: (a.zip = z.zip)
  ->  Seq Scan on addresses a  (cost=0.00..500.0 rows=12 width=8) (actual time=0.01..40.0 rows=48211 loops=1)
        Filter: ((city = 'Paris'::text) AND (zip ~~ '75%'::text))
        Rows Removed by Filter: 1000
  ->  Hash  (cost=5.0..5.0 rows=400 width=8) (actual time=0.3..0.3 rows=400 loops=1)
        Buckets: 1024  Batches: 1  Memory Usage: 24kB
        ->  Seq Scan on zones z  (cost=0.00..5.0 rows=400 width=8) (actual time=0.01..0.1 rows=400 loops=1)
"""
FINE_PLAN = """Hash Join  (cost=10.0..900.0 rows=45000 width=16) (actual time=5.0..{ms} rows=48211 loops=1)
  Hash Cond: (a.zip = z.zip)
  ->  Seq Scan on addresses a  (cost=0.00..500.0 rows=46000 width=8) (actual time=0.01..40.0 rows=48211 loops=1)
  ->  Hash  (cost=5.0..5.0 rows=400 width=8) (actual time=0.3..0.3 rows=400 loops=1)
        Buckets: 1024  Batches: 1  Memory Usage: 24kB
        ->  Seq Scan on zones z  (cost=0.00..5.0 rows=400 width=8) (actual time=0.01..0.1 rows=400 loops=1)
"""
LIMITED_PLAN = """Limit  (cost=0.00..2.0 rows=10 width=8) (actual time=0.01..{ms} rows=10 loops=1)
  ->  Seq Scan on events  (cost=0.00..20000.0 rows=100000 width=8) (actual time=0.01..{ms} rows=10 loops=1)
"""


def row_misestimate():
    hit = Log()
    for i in range(2):
        hit.execute(1001, 80.0, "SELECT a.id, z.name FROM addresses a JOIN zones z ON z.zip = a.zip WHERE a.city = $1 AND a.zip LIKE $2",
                    ["Paris", "75%"], MISEST_PLAN.format(ms=80.0))
    hit.write("fixtures/rules/row-misestimate/hit.log")
    ok = Log()
    for i in range(2):
        ok.execute(1002, 80.0, "SELECT a.id, z.name FROM addresses a JOIN zones z ON z.zip = a.zip", None,
                   FINE_PLAN.format(ms=80.0))
        ok.statement(1002, 0.5, "SELECT id FROM events LIMIT 10")
        ok.lines.append(f"{ok.stamp()} [1002] app@shop LOG:  duration: 0.500 ms  plan:")
        ok.lines.append("\tQuery Text: SELECT id FROM events LIMIT 10")
        for l in LIMITED_PLAN.format(ms=0.5).strip("\n").split("\n"):
            ok.lines.append("\t" + l)
    ok.write("fixtures/rules/row-misestimate/ok.log")


NL_PLAN = """Nested Loop  (cost=0.00..90000.0 rows=1200 width=16) (actual time=0.05..{ms} rows=1200 loops=1)
  ->  Seq Scan on orders o  (cost=0.00..50.0 rows=200 width=8) (actual time=0.01..0.2 rows=200 loops=1)
        Filter: (user_id = 7)
        Rows Removed by Filter: 2000
  ->  Seq Scan on order_items i  (cost=0.00..1500.0 rows=20 width=8) (actual time=0.4..1.4 rows=20 loops=200)
        Filter: (order_id = o.id)
        Rows Removed by Filter: 99980
"""
NL_OK_PLAN = """Nested Loop  (cost=0.43..900.0 rows=1200 width=16) (actual time=0.05..{ms} rows=1200 loops=1)
  ->  Seq Scan on orders o  (cost=0.00..50.0 rows=60 width=8) (actual time=0.01..0.2 rows=60 loops=1)
        Filter: (user_id = 7)
        Rows Removed by Filter: 2000
  ->  Index Scan using order_items_order_id_idx on order_items i  (cost=0.43..8.0 rows=20 width=8) (actual time=0.01..0.02 rows=20 loops=60)
        Index Cond: (order_id = o.id)
"""


def nested_loop():
    hit = Log()
    for i in range(2):
        hit.execute(1101, 300.0, "SELECT i.* FROM orders o JOIN order_items i ON i.order_id = o.id WHERE o.user_id = $1",
                    [7], NL_PLAN.format(ms=300.0))
    hit.write("fixtures/rules/nested-loop/hit.log")
    ok = Log()
    for i in range(2):
        ok.execute(1102, 2.0, "SELECT i.* FROM orders o JOIN order_items i ON i.order_id = o.id WHERE o.user_id = $1",
                   [7], NL_OK_PLAN.format(ms=2.0))
    ok.write("fixtures/rules/nested-loop/ok.log")


LOSSY_PLAN = """Bitmap Heap Scan on events  (cost=900.0..60000.0 rows=50000 width=8) (actual time=20.0..{ms} rows=52000 loops=1)
  Recheck Cond: (created_at >= '2026-01-01 00:00:00+00'::timestamp with time zone)
  Rows Removed by Index Recheck: 1840000
  Heap Blocks: exact={exact} lossy={lossy}
  ->  Bitmap Index Scan on events_created_at_idx  (cost=0.00..890.0 rows=50000 width=0) (actual time=15.0..15.0 rows=52000 loops=1)
        Index Cond: (created_at >= '2026-01-01 00:00:00+00'::timestamp with time zone)
"""


def lossy_bitmap():
    for kind, exact, lossy in (("hit", 11000, 42000), ("ok", 11000, 0)):
        log = Log()
        for i in range(2):
            plan = LOSSY_PLAN.format(ms=400.0, exact=exact, lossy=lossy).replace(" lossy=0", "")
            log.execute(1201, 400.0, "SELECT id FROM events WHERE created_at >= $1", ["2026-01-01"], plan)
        log.write(f"fixtures/rules/lossy-bitmap/{kind}.log")


IOS_PLAN = """Index Only Scan using orders_user_id_idx on orders  (cost=0.43..900.0 rows=50000 width=8) (actual time=0.05..{ms} rows=50000 loops=1)
  Index Cond: (user_id > 100)
  Heap Fetches: {fetches}
"""


def heap_fetches():
    for kind, fetches in (("hit", 48000), ("ok", 12)):
        log = Log()
        for i in range(2):
            log.execute(1301, 60.0, "SELECT user_id FROM orders WHERE user_id > $1", [100],
                        IOS_PLAN.format(ms=60.0, fetches=fetches))
        log.write(f"fixtures/rules/heap-fetches/{kind}.log")


HOT_PLAN = """Sort  (cost=80000.0..81000.0 rows=350000 width=22) (actual time=900.0..1000.0 rows=350000 loops=1)
  Sort Key: created_at
  Sort Method: quicksort  Memory: 30000kB
  ->  Seq Scan on orders  (cost=0.00..40000.0 rows=350000 width=22) (actual time=0.02..150.0 rows=350000 loops=1)
"""
COOL_PLAN = """Unique  (cost=80000.0..82000.0 rows=350000 width=22) (actual time=300.0..400.0 rows=350000 loops=1)
  ->  Sort  (cost=80000.0..81000.0 rows=350000 width=22) (actual time=200.0..270.0 rows=350000 loops=1)
        Sort Key: created_at
        Sort Method: quicksort  Memory: 30000kB
        ->  Seq Scan on orders  (cost=0.00..40000.0 rows=350000 width=22) (actual time=0.02..140.0 rows=350000 loops=1)
"""


def hot_node():
    for kind, plan, ms in (("hit", HOT_PLAN, 1000.0), ("ok", COOL_PLAN, 400.0)):
        log = Log()
        for i in range(2):
            log.execute(1401, ms, "SELECT DISTINCT id, created_at FROM orders ORDER BY created_at", None, plan)
        log.write(f"fixtures/rules/hot-node/{kind}.log")


def unindexed_foreign_key():
    os.makedirs("fixtures/rules/unindexed-foreign-key", exist_ok=True)
    with open("fixtures/rules/unindexed-foreign-key/schema.sql", "w") as f:
        f.write("""CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint NOT NULL, status text);
CREATE TABLE order_items (id bigint PRIMARY KEY, order_id bigint NOT NULL REFERENCES orders (id), qty int);
CREATE TABLE reviews (id bigint PRIMARY KEY, order_id bigint NOT NULL, body text);
ALTER TABLE reviews ADD CONSTRAINT reviews_order_fk FOREIGN KEY (order_id) REFERENCES orders (id);
CREATE INDEX reviews_order_id_created_idx ON reviews (order_id, id);
""")
    hit = Log()
    for i in range(20):
        hit.execute(1501, 90.0, "SELECT qty FROM order_items WHERE order_id = $1", [i], gap=50)
    hit.write("fixtures/rules/unindexed-foreign-key/hit.log")
    ok = Log()
    for i in range(20):
        ok.execute(1502, 0.3, "SELECT body FROM reviews WHERE order_id = $1", [i], gap=50)
    ok.write("fixtures/rules/unindexed-foreign-key/ok.log")


def duplicate_index():
    os.makedirs("fixtures/rules/duplicate-index", exist_ok=True)
    with open("fixtures/rules/duplicate-index/schema.sql", "w") as f:
        f.write("""CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint NOT NULL, status text, created_at timestamptz);
CREATE INDEX orders_user_id_idx ON orders (user_id);
CREATE INDEX orders_user_id_status_idx ON orders (user_id, status);
CREATE UNIQUE INDEX orders_user_created_key ON orders (user_id, created_at);
CREATE INDEX orders_created_at_desc_idx ON orders (created_at DESC);
CREATE INDEX orders_created_at_idx ON orders (created_at);
CREATE TABLE users (id bigint PRIMARY KEY, email text);
CREATE UNIQUE INDEX users_email_key ON users (email);
CREATE INDEX users_email_lower_idx ON users (lower(email));
""")
    hit = Log()
    hit.execute(1601, 0.3, "SELECT id FROM orders WHERE user_id = $1", [1])
    hit.write("fixtures/rules/duplicate-index/hit.log")
    ok = Log()
    ok.execute(1602, 0.3, "SELECT id FROM users WHERE email = $1", ["a@b"])
    ok.write("fixtures/rules/duplicate-index/ok.log")


def unused_index():
    # Run by tests/live.rs against a database with these tables (see there).
    hit = Log()
    for i in range(5):
        hit.execute(1701, 2.0, "SELECT id FROM events WHERE kind = $1", [i])
    hit.write("fixtures/rules/unused-index/hit.log")
    ok = Log()
    for i in range(5):
        ok.execute(1702, 2.0, "SELECT id FROM sessions WHERE token = $1", [f"t{i}"])
    ok.write("fixtures/rules/unused-index/ok.log")


for f in (unused_index, unindexed_foreign_key, duplicate_index, row_misestimate, nested_loop, lossy_bitmap, heap_fetches, hot_node, disk_spill, seq_scan, missing_index, select_star, n_plus_one, repeated_query, leading_wildcard_like,
          function_on_column, large_offset):
    f()
