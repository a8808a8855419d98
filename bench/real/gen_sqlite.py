"""Generate the SQL script of the sqlite3 workload (rulloc benchmark suite).

Writes to stdout a deterministic script for `sqlite3 :memory:`: two tables,
literal INSERT statements (so the SQL parser allocates too), bulk inserts
from recursive CTEs, indexes, joins, aggregates, window functions, string
functions, updates and deletes, and final checksum queries. No random():
SQLite seeds it from the OS, so every value is computed from row numbers.
Usage: gen_sqlite.py [SCALE] > script.sql
"""
import random
import sys


def main():
    scale = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
    users = max(500, int(15000 * scale))
    orders = max(5000, int(120000 * scale))
    rng = random.Random(99)
    cities = ["Lisbon", "Oslo", "Quito", "Hanoi", "Lagos", "Perth", "Turin", "Kyoto", "Lima", "Bergen"]
    w = sys.stdout.write
    w(".headers off\n.mode list\n")
    w("PRAGMA cache_size = -65536;\n")
    w("CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT, email TEXT, age INT, city TEXT, bio TEXT);\n")
    w("CREATE TABLE orders(id INTEGER PRIMARY KEY, user_id INT, amount REAL, item TEXT, created INT);\n")
    w("BEGIN;\n")
    for i in range(1, users + 1):
        name = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randrange(4, 12)))
        bio = " ".join(rng.choice(["likes", "tea", "rust", "c++", "chess", "rain", "maps", "jazz"])
                       for _ in range(rng.randrange(1, 30)))
        w("INSERT INTO users VALUES(%d,'%s','%s@example.org',%d,'%s','%s');\n"
          % (i, name, name, rng.randrange(18, 90), rng.choice(cities), bio))
    w("COMMIT;\n")
    w("BEGIN;\n")
    w("WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM n WHERE x < %d) "
      "INSERT INTO orders(user_id, amount, item, created) "
      "SELECT 1 + (x*7919) %% %d, ((x*104729) %% 100000) / 100.0, "
      "'item-' || ((x*31) %% 997) || '-' || substr('abcdefghijklmnopqrstuvwxyz', 1 + x %% 26, 1 + x %% 13), "
      "1600000000 + x*37 FROM n;\n" % (orders, users))
    w("COMMIT;\n")
    w("CREATE INDEX orders_user ON orders(user_id);\n")
    w("CREATE INDEX orders_item ON orders(item, amount);\n")
    w("CREATE INDEX users_city ON users(city, age);\n")
    w("SELECT city, count(*), round(avg(age), 3) FROM users GROUP BY city ORDER BY city;\n")
    w("SELECT u.city, count(o.id), round(sum(o.amount), 2) FROM users u JOIN orders o ON o.user_id = u.id "
      "GROUP BY u.city ORDER BY 3 DESC;\n")
    w("SELECT u.name, round(sum(o.amount), 2) AS total FROM users u JOIN orders o ON o.user_id = u.id "
      "GROUP BY u.id ORDER BY total DESC, u.id LIMIT 20;\n")
    w("SELECT item, count(*), round(max(amount), 2) FROM orders WHERE item LIKE 'item-1%' "
      "GROUP BY item ORDER BY 2 DESC, item LIMIT 25;\n")
    w("SELECT id, user_id, round(amount, 2), rank FROM (SELECT id, user_id, amount, "
      "rank() OVER (PARTITION BY user_id ORDER BY amount DESC, id) AS rank FROM orders) "
      "WHERE rank = 1 ORDER BY amount DESC, id LIMIT 20;\n")
    w("SELECT city, length(group_concat(upper(name), ',')) FROM users GROUP BY city ORDER BY city;\n")
    w("SELECT count(*) FROM (SELECT DISTINCT substr(bio, 1, 20) FROM users);\n")
    w("SELECT printf('%08d|%s', id, replace(bio, ' ', '_')) FROM users WHERE id % 1000 = 7 ORDER BY id;\n")
    w("BEGIN;\n")
    w("UPDATE orders SET amount = amount * 1.1, item = item || '-x' WHERE user_id % 7 = 0;\n")
    w("DELETE FROM orders WHERE (id * 13) % 10 = 3;\n")
    w("UPDATE users SET bio = bio || ' ' || bio WHERE age > 60;\n")
    w("COMMIT;\n")
    w("CREATE TABLE summary AS SELECT user_id, count(*) AS n, sum(amount) AS s, "
      "group_concat(item, ';') AS items FROM orders GROUP BY user_id;\n")
    w("SELECT count(*), sum(n), round(sum(s), 2), sum(length(items)) FROM summary;\n")
    w("DROP TABLE summary;\n")
    w("VACUUM;\n")
    w("SELECT count(*), round(sum(amount), 2), sum(length(item)) FROM orders;\n")
    w("SELECT count(*), sum(length(bio)), sum(age) FROM users;\n")


if __name__ == "__main__":
    main()
