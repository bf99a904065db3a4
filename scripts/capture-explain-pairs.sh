#!/usr/bin/env bash
# Captures the same plans in TEXT and JSON format from a local PostgreSQL into
# fixtures/explain/pg<version>/<name>.{txt,json}: tests/explain.rs checks that both give
# the same model. EXPLAIN (ANALYZE, TIMING OFF, SUMMARY OFF): row counts, loops, sort and
# hash memory are deterministic for the same data; times are not and are left out.
# Usage: scripts/capture-explain-pairs.sh [psql connection options]   (default: -h 127.0.0.1 -U postgres)
set -euo pipefail
cd "$(dirname "$0")/.."
CONN=("$@")
[ ${#CONN[@]} -gt 0 ] || CONN=(-h 127.0.0.1 -U postgres)
DB=qperf_explain_$$
psql -X -q "${CONN[@]}" -d postgres -c "CREATE DATABASE $DB"
trap 'psql -X -q "${CONN[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB"' EXIT
P=(psql -X -q -v ON_ERROR_STOP=1 "${CONN[@]}" -d "$DB")
"${P[@]}" <<'SQL'
SELECT setseed(0.42);
CREATE TABLE users (id int PRIMARY KEY, name text, country text);
CREATE TABLE orders (id int PRIMARY KEY, user_id int REFERENCES users, status text, total numeric, created_at timestamptz);
CREATE TABLE items (id int PRIMARY KEY, order_id int, qty int);
INSERT INTO users SELECT g, 'user ' || g, (ARRAY['fr','de','us'])[1 + g % 3] FROM generate_series(1, 2000) g;
INSERT INTO orders SELECT g, 1 + g % 2000, (ARRAY['completed','pending','cancelled'])[1 + g % 3], g % 97, '2024-01-01'::timestamptz + g * interval '1 minute' FROM generate_series(1, 30000) g;
INSERT INTO items SELECT g, 1 + g % 30000, g % 5 FROM generate_series(1, 60000) g;
CREATE INDEX orders_user_id_idx ON orders (user_id);
CREATE INDEX orders_created_at_idx ON orders (created_at);
VACUUM ANALYZE;
SQL
VER=$("${P[@]}" -At -c "SHOW server_version_num" | cut -c1-2)
OUT=fixtures/explain/pg$VER
mkdir -p "$OUT"
SETUP="SET max_parallel_workers_per_gather = 0; SET jit = off;"
capture() {  # name, settings, statement
    local name=$1 settings=$2 sql=$3
    for fmt in text json; do
        local ext=txt; [ $fmt = json ] && ext=json
        "${P[@]}" -At -c "$SETUP $settings" -c "BEGIN" \
            -c "EXPLAIN (ANALYZE, TIMING OFF, SUMMARY OFF, COSTS, FORMAT $fmt) $sql" -c "ROLLBACK" \
            | grep -v '^BEGIN$\|^ROLLBACK$\|^SET$' > "$OUT/$name.$ext"
    done
    echo "$OUT/$name: $(wc -l < "$OUT/$name.txt") text lines"
}
capture seq_scan_filter "" "SELECT * FROM orders WHERE total = 5 AND status = 'pending'"
capture index_scan "" "SELECT * FROM orders WHERE id = 42"
capture bitmap_scan "" "SELECT * FROM orders WHERE user_id IN (1, 2, 3)"
capture index_only_backward "" "SELECT id FROM orders WHERE id < 100 ORDER BY id DESC"
capture hash_join_aggregate "" "SELECT u.country, count(*), sum(o.total) FROM orders o JOIN users u ON u.id = o.user_id GROUP BY u.country"
capture sort_limit "" "SELECT * FROM orders ORDER BY total DESC, id LIMIT 10"
capture merge_join "SET enable_hashjoin = off; SET enable_nestloop = off;" "SELECT o.id, i.qty FROM orders o JOIN items i ON i.order_id = o.id WHERE o.id < 500"
capture nested_loop_left "SET enable_hashjoin = off; SET enable_mergejoin = off;" "SELECT u.name, o.id FROM users u LEFT JOIN orders o ON o.user_id = u.id WHERE u.id < 20"
capture semi_anti "" "SELECT u.id FROM users u WHERE EXISTS (SELECT 1 FROM orders o WHERE o.user_id = u.id AND o.total > 90) AND NOT EXISTS (SELECT 1 FROM orders o2 WHERE o2.user_id = u.id AND o2.status = 'cancelled' AND o2.total = 0)"
capture initplan_subplan "" "SELECT id, (SELECT count(*) FROM items i WHERE i.order_id = o.id) FROM orders o WHERE total = (SELECT max(total) FROM orders) AND id < 200"
capture cte_materialized "" "WITH recent AS MATERIALIZED (SELECT * FROM orders WHERE created_at > '2024-01-20') SELECT status, count(*) FROM recent GROUP BY status ORDER BY 2 DESC"
capture external_sort "SET work_mem = '64kB';" "SELECT * FROM items ORDER BY qty, order_id"
capture hash_batches "SET work_mem = '64kB'; SET enable_mergejoin = off; SET enable_nestloop = off;" "SELECT count(*) FROM items i JOIN orders o ON o.id = i.order_id"
capture insert_returning "" "INSERT INTO users SELECT g, 'new', 'fr' FROM generate_series(100001, 100010) g RETURNING id"
capture union_distinct "" "SELECT user_id FROM orders WHERE total = 1 UNION SELECT id FROM users WHERE country = 'de' AND id < 50"
capture window_function "" "SELECT id, rank() OVER (PARTITION BY user_id ORDER BY total DESC) FROM orders WHERE user_id < 5"
