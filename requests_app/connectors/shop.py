"""The demo "shop": customers, orders, support tickets and marketing preferences, in any of the
three dialects, with the connector statements that work it. Used by the demo (SQLite, ./run.sh),
the tests (PostgreSQL, MariaDB, SQLite) and the benchmark."""
from __future__ import annotations

from django.db import transaction

from . import engine

SEEDER = "seed_shop"  # the trail's actor for what the demo configures

TABLES = [
    "CREATE TABLE customers (id INTEGER PRIMARY KEY, email VARCHAR(200), account_id VARCHAR(50), "
    "phone VARCHAR(40), name VARCHAR(200), address VARCHAR(300), erasures INTEGER NOT NULL DEFAULT 0)",
    "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_email VARCHAR(200), item VARCHAR(200), "
    "total DECIMAL(10,2), placed_on DATE)",
    "CREATE TABLE tickets (id INTEGER PRIMARY KEY, email VARCHAR(200), subject VARCHAR(200), body TEXT)",
    "CREATE TABLE marketing (email VARCHAR(200) PRIMARY KEY, newsletter INTEGER NOT NULL, ads INTEGER NOT NULL)",
]
INDEXES = ["CREATE INDEX customers_email ON customers (email)", "CREATE INDEX orders_email ON orders (customer_email)",
           "CREATE INDEX tickets_email ON tickets (email)"]

PEOPLE = [
    # id, email, account_id, phone, name, address
    (1, "ana@example.com", "A-1001", "+1 415 555 0101", "Ana Example", "1 Market St, San Francisco"),
    (2, "ben@example.com", "A-1002", "+44 20 7946 0002", "Ben Sample", "2 High St, London"),
    (3, "carla@example.mx", "A-1003", "+52 55 5555 0003", "Carla Muestra", "Av. Reforma 3, CDMX"),
]
ORDERS = [(1, "ana@example.com", "Phone case", "9.90", "2026-03-01"),
          (2, "ana@example.com", "USB cable", "4.50", "2026-05-12"),
          (3, "ben@example.com", "Headphones", "59.00", "2026-06-20"),
          (4, "carla@example.mx", "Backpack", "35.00", "2026-07-04")]
TICKETS = [(1, "ana@example.com", "Late delivery", "My order 2 has not arrived."),
           (2, "carla@example.mx", "Refund", "Please refund order 4.")]
MARKETING = [("ana@example.com", 1, 1), ("ben@example.com", 1, 0), ("carla@example.mx", 0, 1)]

# system name -> its statements (action, label, sql)
SYSTEMS = {
    "Shop accounts": {
        "categories": ["identifiers", "customer_records"], "kinds": ["access", "deletion", "correction"],
        "identity_source": True,
        "statements": [
            ("identity", "accounts", "SELECT email, account_id, phone FROM customers WHERE email = %(email)s "
                                     "OR account_id = %(account_id)s OR phone = %(phone)s"),
            ("collect", "customer", "SELECT id, email, account_id, phone, name, address FROM customers "
                                    "WHERE email = %(email)s"),
            ("erase", "customer", "DELETE FROM customers WHERE email = %(email)s"),
            ("correct", "customer", "UPDATE customers SET name = COALESCE(%(new_name)s, name), "
                                    "phone = COALESCE(%(new_phone)s, phone), address = COALESCE(%(new_address)s, "
                                    "address) WHERE email = %(email)s"),
        ]},
    "Shop orders": {
        "categories": ["commercial"], "kinds": ["access", "deletion"], "identity_source": False,
        "statements": [
            ("collect", "orders", "SELECT id, item, total, placed_on FROM orders WHERE customer_email = %(email)s "
                                  "ORDER BY id"),
            # Orders are kept for tax law, without the person: anonymised, not deleted.
            ("erase", "orders", "UPDATE orders SET customer_email = NULL WHERE customer_email = %(email)s"),
        ]},
    "Shop support": {
        "categories": ["audio_visual"], "kinds": ["access", "deletion"], "identity_source": False,
        "statements": [
            ("collect", "tickets", "SELECT id, subject, body FROM tickets WHERE email = %(email)s ORDER BY id"),
            ("erase", "tickets", "DELETE FROM tickets WHERE email = %(email)s"),
        ]},
    "Shop marketing": {
        "categories": ["inferences"], "kinds": ["access", "deletion", "opt_out"], "identity_source": False,
        "statements": [
            ("collect", "preferences", "SELECT newsletter, ads FROM marketing WHERE email = %(email)s"),
            ("erase", "preferences", "DELETE FROM marketing WHERE email = %(email)s"),
            ("suppress", "preferences", "UPDATE marketing SET newsletter = 0, ads = 0 WHERE email = %(email)s"),
        ]},
}


def create(url: str) -> None:
    """Create the shop's tables and rows in the (empty) database at ``url``."""
    conn = engine.connect(url, timeout=60)
    try:
        for sql in TABLES + INDEXES:
            conn.ddl(sql)
        conn.begin(read_only=False)
        for table, cols, rows in (
                ("customers", "id, email, account_id, phone, name, address", PEOPLE),
                ("orders", "id, customer_email, item, total, placed_on", ORDERS),
                ("tickets", "id, email, subject, body", TICKETS),
                ("marketing", "email, newsletter, ads", MARKETING)):
            names = [c.strip() for c in cols.split(",")]
            sql = f"INSERT INTO {table} ({cols}) VALUES ({', '.join(f'%({n})s' for n in names)})"
            for row in rows:
                conn.execute(sql, dict(zip(names, row, strict=True)))
        conn.commit()
    finally:
        conn.close()


def configure(url: str | None = None, *, url_env: str = "", owner=None) -> list:
    """The shop's data systems in the data map, each worked by a connector with its statements."""
    from requests_app.fulfilment.models import DataSystem
    from requests_app.fulfilment.services import save_system

    from . import services
    from .models import Connector

    # Through the services a manager's edits use, so each change is in the configuration trail
    # (requests_app/configaudit.py) under the command's name, the URL only named as replaced.
    systems = []
    for name, spec in SYSTEMS.items():
        with transaction.atomic():
            system = DataSystem.objects.filter(name=name).first() or DataSystem(name=name)
            system.owner, system.owner_email = owner, "" if owner else "shop-data@example.com"
            system.categories, system.request_kinds = spec["categories"], spec["kinds"]
            system.work_mode = DataSystem.WorkMode.CONNECTOR
            system.sources, system.purposes = "You, when you shop with us", "Running the shop"
            system.recipients = "Our hosting provider"
            save_system(system, None, actor=SEEDER)
            connector = Connector.objects.filter(system=system).first() or Connector(system=system)
            connector.kind, connector.url_env = Connector.Kind.SQL, url_env
            connector.identity_source = spec["identity_source"]
            if url:
                connector.set_url(url)
            services.save_connector(connector, None, actor=SEEDER)
            for statement in connector.statements.all():
                services.delete_statement(statement, None, actor=SEEDER)
            for i, (action, label, sql) in enumerate(spec["statements"]):
                services.save_statement(connector, action=action, label=label, sql=sql, position=i, actor=SEEDER)
        systems.append(system)
    return systems
