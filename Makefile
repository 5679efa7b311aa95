# The README's two commands (serve, test) and the chores around them.
VENV ?= .venv
PYTHON ?= python3
BIN = $(VENV)/bin
# axe-core from npm, for the accessibility tests (tests/test_accessibility.py)
AXE_CORE = 4.14.1

LANGUAGES = fr es pt sw ar
CATALOGS = $(foreach lang,$(LANGUAGES),translations/$(lang)/LC_MESSAGES/messages.po)
# Compiled catalogs live inside the package, so an installed trainer finds them; built, never
# edited, never committed.
COMPILED = $(patsubst translations/%.po,trainer/translations/%.mo,$(CATALOGS))

.PHONY: serve test check code-css translations clean

serve: $(VENV)/.installed $(COMPILED)  ## install into .venv and serve the bundled courses on :8080
	$(BIN)/trainer serve

test: $(VENV)/.test-installed $(VENV)/axe/.axe-core-$(AXE_CORE) $(COMPILED)  ## install the test dependencies and run every test
	$(BIN)/python -m pytest -n 2 --dist loadfile  # two workers; a file stays on one (its fixtures)

translations: $(VENV)/.installed  ## extract the interface's messages, update every catalog, compile
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location \
		--sort-output --project=trainer --copyright-holder="the trainer authors" \
		-o translations/messages.pot trainer
	for lang in $(LANGUAGES); do \
		if [ -f translations/$$lang/LC_MESSAGES/messages.po ]; then \
			$(BIN)/pybabel update --no-wrap --ignore-obsolete --no-fuzzy-matching -i translations/messages.pot \
				-d translations -l $$lang; \
		else \
			$(BIN)/pybabel init --no-wrap -i translations/messages.pot \
				-d translations -l $$lang; \
		fi; \
	done
	$(MAKE) $(COMPILED)

trainer/translations/%.mo: translations/%.po $(VENV)/.installed
	mkdir -p $(dir $@)
	$(BIN)/pybabel compile -i $< -o $@

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

$(VENV)/axe/.axe-core-$(AXE_CORE):
	npm install --no-save --no-audit --no-fund --prefix $(VENV)/axe axe-core@$(AXE_CORE)
	touch $@

clean:
	rm -rf $(VENV) instance .pytest_cache trainer/translations
