"""The OpenAPI document as a whole: request bodies bounded by the settings in force, and
every family's Try-it-out examples put on their routes."""
