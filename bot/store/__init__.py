"""The relational store: everything a second replica must see lives here (SQLAlchemy; SQLite by
default, PostgreSQL through DATABASE_URL). Schema changes go through Alembic migrations."""
