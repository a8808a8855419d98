"""Writes the SQL script of dropin.real.sqlite on stdout: tables filled with
generated rows, indexes, joins, GROUP BY, window functions, a recursive CTE,
JSON, updates, deletes and a VACUUM, every query's result printed."""
import sys

CUSTOMERS = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
seed = 12345


def rand(n):
    global seed
    seed = (seed * 1103515245 + 12345) % (1 << 31)
    return (seed >> 12) % n


CITIES = ["Lisbon", "Oslo", "Quito", "Hanoi", "Dakar", "Lima", "Perth", "Turin"]
WORDS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf",
         "hotel", "india", "juliet", "kilo", "lima", "mike", "november"]

out = sys.stdout.write
out(".headers on\n.mode list\nPRAGMA journal_mode=WAL;\nPRAGMA cache_size=-20000;\n")
out("CREATE TABLE customers(id INTEGER PRIMARY KEY, name TEXT, city TEXT, score REAL);\n")
out("CREATE TABLE orders(id INTEGER PRIMARY KEY, customer_id INTEGER, amount INTEGER, note TEXT, created TEXT);\n")
out("CREATE TABLE items(order_id INTEGER, product TEXT, qty INTEGER, price INTEGER);\n")
out("BEGIN;\n")
for c in range(1, CUSTOMERS + 1):
    name = "-".join(WORDS[rand(len(WORDS))] for _ in range(1 + rand(4)))
    out("INSERT INTO customers VALUES(%d,'%s%d','%s',%d.%02d);\n"
        % (c, name, c, CITIES[rand(len(CITIES))], rand(1000), rand(100)))
order = 0
for c in range(1, CUSTOMERS + 1):
    for _ in range(rand(6)):
        order += 1
        note = " ".join(WORDS[rand(len(WORDS))] for _ in range(rand(3) * rand(60)))
        out("INSERT INTO orders VALUES(%d,%d,%d,'%s','2024-%02d-%02d');\n"
            % (order, c, rand(100000), note, 1 + rand(12), 1 + rand(28)))
        for _ in range(1 + rand(3)):
            out("INSERT INTO items VALUES(%d,'p%d',%d,%d);\n"
                % (order, rand(500), 1 + rand(9), 1 + rand(5000)))
out("COMMIT;\n")
out("""
CREATE INDEX orders_customer ON orders(customer_id);
CREATE INDEX items_order ON items(order_id);
CREATE INDEX customers_city ON customers(city, score);
ANALYZE;
SELECT count(*), sum(amount), min(created), max(created) FROM orders;
SELECT city, count(*), round(avg(score), 3) FROM customers GROUP BY city ORDER BY city;
SELECT c.city, count(DISTINCT o.id) AS orders, sum(i.qty * i.price) AS revenue
  FROM customers c JOIN orders o ON o.customer_id = c.id
  JOIN items i ON i.order_id = o.id
  GROUP BY c.city HAVING revenue > 0 ORDER BY revenue DESC, c.city;
SELECT product, sum(qty) AS q FROM items GROUP BY product ORDER BY q DESC, product LIMIT 20;
SELECT id, name, score, rank() OVER (PARTITION BY city ORDER BY score DESC, id) AS r
  FROM customers ORDER BY city, r LIMIT 40;
SELECT customer_id, total, sum(total) OVER (ORDER BY customer_id ROWS BETWEEN 3 PRECEDING AND CURRENT ROW)
  FROM (SELECT customer_id, sum(amount) AS total FROM orders GROUP BY customer_id)
  ORDER BY customer_id LIMIT 50;
WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 5000)
  SELECT count(*), sum(x), group_concat(x, ',') IS NOT NULL FROM n;
SELECT length(group_concat(note, '|')) FROM orders;
SELECT city, length(group_concat(name, ',')), substr(group_concat(name, ','), 1, 60)
  FROM (SELECT * FROM customers ORDER BY id) GROUP BY city ORDER BY city;
SELECT json_group_array(json_object('id', id, 'city', city)) FROM
  (SELECT id, city FROM customers WHERE id % 997 = 0 ORDER BY id);
SELECT upper(name), printf('%08.3f', score), instr(name, 'echo') FROM customers
  WHERE name LIKE '%echo%' ORDER BY id LIMIT 25;
UPDATE orders SET note = note || ' ' || note || ' updated' WHERE id % 7 = 0;
UPDATE customers SET score = score * 1.5 WHERE city IN ('Oslo', 'Lima');
DELETE FROM items WHERE qty = 1;
DELETE FROM orders WHERE amount < 5000;
SELECT count(*), sum(length(note)) FROM orders;
SELECT count(*), sum(qty) FROM items;
VACUUM;
PRAGMA integrity_check;
SELECT c.id, c.name, count(o.id), coalesce(sum(o.amount), 0)
  FROM customers c LEFT JOIN orders o ON o.customer_id = c.id
  GROUP BY c.id ORDER BY count(o.id) DESC, c.id LIMIT 30;
SELECT city, count(*) FROM customers WHERE id NOT IN (SELECT customer_id FROM orders)
  GROUP BY city ORDER BY city;
CREATE TEMP TABLE big AS SELECT o.id, o.note || c.name AS text FROM orders o JOIN customers c ON c.id = o.customer_id;
SELECT count(*), sum(length(text)), max(length(text)) FROM big;
SELECT text FROM big ORDER BY text DESC LIMIT 5;
""")
