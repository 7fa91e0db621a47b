"""Language pieces of the assistant: rule-based entities and value
normalisers, built on a blank spaCy English pipeline."""
