"""Data: built-in corpora, upload validation and vocabularies."""
