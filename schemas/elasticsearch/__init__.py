"""Elasticsearch index templates and components (JSON data, read by ``schemas.es_templates``).

A package only so that the JSON files ship in the wheel beside the code.
"""
