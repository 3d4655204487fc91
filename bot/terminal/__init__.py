"""Terminal adapter: `itaku ask` output and the `itaku chat` REPL."""
