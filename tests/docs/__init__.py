"""The executed-docs harness: parse the console blocks of the pages, run them, compare their output loosely."""
