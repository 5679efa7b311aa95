# The README's two commands (serve, test) and the chores around them.
VENV ?= .venv
PYTHON ?= python3
BIN = $(VENV)/bin

.PHONY: serve test check code-css clean

serve: $(VENV)/.installed  ## install into .venv and serve the bundled courses on :8080
	$(BIN)/trainer serve

test: $(VENV)/.test-installed  ## install the test dependencies and run every test
	$(BIN)/python -m pytest

check: $(VENV)/.installed  ## check the bundled courses
	$(BIN)/trainer check courses

code-css: $(VENV)/.installed  ## regenerate the code-highlighting stylesheet from Pygments
	$(BIN)/python -m trainer.courses.highlight_css > trainer/static/code.css

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.test-installed: $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

clean:
	rm -rf $(VENV) instance .pytest_cache
