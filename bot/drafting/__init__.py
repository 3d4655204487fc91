"""Drafting: contract clauses and the NDA, filled from templates under knowledge/templates/
(edited by the legal team, indexed like any document) and rendered as Markdown and .docx."""
