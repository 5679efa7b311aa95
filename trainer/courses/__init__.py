"""Courses as Markdown files: loading, checking, rendering."""
