"""Subcommands of `rwestudy` that are apps of their own: `import redcap`, `export redcap-dictionary`,
`mutations`. Each parses its options, calls the readers (`io.redcap`, `io.maf`) and the pipeline,
and prints plain text; the CLI (`cli.py`) mounts them."""
