"""WebShop in text mode: real-data and generated catalogs, BM25 search, WebShop's reward."""
