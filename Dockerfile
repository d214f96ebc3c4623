# event-records: the API with its data, served by gunicorn on port 8000.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    EVENT_RECORDS_ROOT=/app \
    EVENT_RECORDS_DATA_DIR=/var/lib/event-records

WORKDIR /app
COPY constraints.txt pyproject.toml setup.cfg README.md ./
COPY api ./api
COPY models ./models
COPY seeds ./seeds
COPY fixtures ./fixtures
# every dependency at the version the tests ran with (constraints.txt, also what .ci/run installs)
RUN pip install --no-cache-dir -c constraints.txt '.[postgres]' \
    && useradd --system --uid 10001 --home-dir /var/lib/event-records --create-home app \
    && chown -R app /var/lib/event-records

USER 10001
# Validate and load the bundled fixtures at build time, so a container starts serving at once.
RUN event-records load

EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status == 200 else 1)"]

# The tested server: `event-records serve` (tests/test_hostile_server.py runs this very line):
# the same gunicorn settings (request limits, slow-client-safe workers, the time budget) and
# headers. --no-load: the data was loaded above, and a PostgreSQL DATABASE_URL is loaded from one
# place with `event-records load`, never by each container. WEB_CONCURRENCY sets the workers.
CMD ["event-records", "serve", "--no-load", "--host", "0.0.0.0", "--port", "8000"]
