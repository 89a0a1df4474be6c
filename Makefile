# consent-desktop: every command sets up what it needs first (see scripts/bootstrap.sh).
.PHONY: setup test demo bench lint clean

setup: .venv/.installed

.venv/.installed: pyproject.toml scripts/bootstrap.sh
	bash scripts/bootstrap.sh
	touch $@

test: setup            ## static checks and the whole test suite
	bash scripts/test.sh

demo: setup            ## training mode: the app against the local sandbox with a software smartcard
	bash scripts/demo.sh

bench: setup           ## benchmarks, written to benchmarks/report/
	.venv/bin/python -m benchmarks

lint: setup
	.venv/bin/ruff check consent_desktop tests benchmarks packaging && .venv/bin/mypy && .venv/bin/lint-imports

clean:
	rm -rf .venv build dist .pytest_cache .mypy_cache .ruff_cache
