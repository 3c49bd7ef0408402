# deepfab: make course · make test · make book
# The first target that needs Python creates .venv (if missing) and installs deepfab
# with torch held at 2.13.0 by constraints.txt.
PY      := .venv/bin/python
STAMP   := .venv/.installed
export MPLBACKEND := Agg

.PHONY: course test book venv browser clean-venv

venv: $(STAMP)

$(STAMP): pyproject.toml constraints.txt Makefile
	test -x $(PY) || python3 -m venv .venv
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt torch==2.13.0
	$(PY) -m pip install --quiet -c constraints.txt -e '.[dev]'
	# test oracles for lecture 5; both declare torchvision, which this CPU torch cannot import, and
	# none of the code they are checked on needs it: installed without their dependencies
	$(PY) -m pip install --quiet --no-deps torchattacks==3.5.1 pytorch-ood==0.4.0
	touch $(STAMP)

# most lectures hold torch to one thread: two run at once on a 2-core CPU (make course JOBS=4 on more cores)
JOBS    ?= 2
course: $(STAMP)
	.venv/bin/deepfab run all --jobs $(JOBS) --out runs

# the book's tests load its pages in Debian's chromium; installed here when missing and we are root
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || \
	  echo "chromium is not installed (apt-get install chromium): the browser tests will be skipped"

test: $(STAMP) browser
	.venv/bin/ruff check src tests benchmarks
	$(PY) -m pytest -n 2 --timeout 900 -q

book: $(STAMP)
	.venv/bin/deepfab book --out runs/book

clean-venv:
	rm -rf .venv
