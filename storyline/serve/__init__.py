"""Serve: the local web app, its JSON API, and the self-contained HTML report."""
