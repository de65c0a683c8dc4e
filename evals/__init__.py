"""probity: measure how often a language model makes things up, and whether tools fix it."""

__version__ = "0.1.0"
