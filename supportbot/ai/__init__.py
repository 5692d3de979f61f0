"""Retrieval and models. Works on plain records (`ArticleRecord`), never on database
sessions, so evaluation runs without a database."""
