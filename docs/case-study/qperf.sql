-- qperf 0.1.0: suggestions for /work/shared/scenario/seed_shop/captured/baseline_text/postgresql.log
-- 3836 statements, 21.3 min of statement time. Review before applying: every index slows writes.
-- CREATE INDEX CONCURRENTLY cannot run inside a transaction block (psql -f runs each statement on its own).

-- order_items (order_id): serves 1 statement, 1375 calls, 17.5 min (81.9% of statement time)
--   0054dfe1dfc29172  1375 calls, 17.5 min: SELECT * FROM order_items WHERE order_id = $1
CREATE INDEX CONCURRENTLY IF NOT EXISTS order_items_order_id_idx ON order_items (order_id);

-- orders (user_id, status, created_at DESC): serves 2 statements, 806 calls, 3.6 min (17.1% of statement time)
--   2fcef830d5b8df45  732 calls, 3.3 min: SELECT count(*) AS orders, coalesce(sum(total), $1) AS spend, max(created_at) AS last_order FROM or…
--   4e32606e681d67fe  74 calls, 19.55 s: SELECT * FROM orders WHERE user_id = $1 AND status = $2 ORDER BY created_at DESC LIMIT $3
CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_user_id_status_created_at_idx ON orders (user_id, status, created_at DESC);

-- Rewrites for the application (not run here):
--
-- n-plus-one 0054dfe1dfc29172: one query: join order_items.order_id to the parent's id (naming convention)
--   SELECT p.*, c.* FROM (SELECT * FROM orders WHERE user_id = $1 AND status = 'completed' ORDER BY created_at DESC LIMIT 20) AS p LEFT JOIN order_items AS c ON c.order_id = p.id ORDER BY p.created_at DESC
--
-- n-plus-one 0054dfe1dfc29172: or fetch all children at once: pass the order_id values as one array
--   SELECT * FROM order_items WHERE order_id = ANY($1)
