#!/usr/bin/env bash
# Captures a MariaDB/MySQL slow log of an N+1 workload into fixtures/mysql_slow/n_plus_one.log.
#
# Two client sessions each list a user's latest orders and then fetch the items of every
# listed order one query at a time (the N+1 loop), like an ORM with lazy loading would.
# Needs a local server reachable as root without a password (the machine's MariaDB).
# Restores slow_query_log / long_query_time / slow_query_log_file afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-fixtures/mysql_slow/n_plus_one.log}
DB=qperf_nplus1_$$
M="mysql -uroot --batch --skip-column-names"

old_log=$($M -e "SELECT @@global.slow_query_log")
old_time=$($M -e "SELECT @@global.long_query_time")
old_file=$($M -e "SELECT @@global.slow_query_log_file")
datadir=$($M -e "SELECT @@datadir")
file="$datadir/qperf-capture-$$.log"
cleanup() {
    $M -e "SET GLOBAL slow_query_log = $old_log; SET GLOBAL long_query_time = $old_time; SET GLOBAL slow_query_log_file = '$old_file'; DROP DATABASE IF EXISTS $DB" || true
    rm -f "$file"
}
trap cleanup EXIT

$M -e "CREATE DATABASE $DB"
$M "$DB" <<'SQL'
CREATE TABLE orders (id INT PRIMARY KEY, user_id INT NOT NULL, status VARCHAR(20) NOT NULL,
                     created_at DATETIME NOT NULL);
CREATE TABLE order_items (id INT PRIMARY KEY AUTO_INCREMENT, order_id INT NOT NULL,
                          product_id INT NOT NULL, quantity INT NOT NULL,
                          FOREIGN KEY (order_id) REFERENCES orders(id));
INSERT INTO orders
  SELECT seq, seq % 50, IF(seq % 10 < 7, 'completed', 'pending'), '2024-01-01' + INTERVAL seq MINUTE
  FROM seq_1_to_5000;
INSERT INTO order_items (order_id, product_id, quantity)
  SELECT o.seq, (o.seq * 7 + i.seq) % 300, 1 + i.seq FROM seq_1_to_5000 o, seq_1_to_3 i;
SQL
$M -e "SET GLOBAL slow_query_log_file = '$file'; SET GLOBAL long_query_time = 0; SET GLOBAL slow_query_log = 1"

# One session: for each user, the orders list, then one items query per listed order.
session() {
    local first=$1
    for u in $(seq "$first" 2 $((first + 10))); do
        echo "SELECT id, created_at FROM orders WHERE user_id = $u AND status = 'completed' ORDER BY created_at DESC LIMIT 10;"
        $M "$DB" -e "SELECT id FROM orders WHERE user_id = $u AND status = 'completed' ORDER BY created_at DESC LIMIT 10" |
            while read -r id; do
                echo "SELECT product_id, quantity FROM order_items WHERE order_id = $id;"
            done
    done | $M "$DB" >/dev/null
}
session 1 &
session 2 &
wait
$M -e "SET GLOBAL slow_query_log = 0"
# Keep only this database's statements' file as written; the helper look-ups that
# computed the loop values ran in other sessions and are part of the log too.
cp "$file" "$OUT"
echo "wrote $OUT ($(grep -c '^# Query_time' "$OUT") statements)"
